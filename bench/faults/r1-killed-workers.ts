// Row R1: a JUMP campaign of 10,000 small files and three 300 MB files uploaded to S3 by 4
// `ferry work` processes (each its own process group, as `setsid ferry work` on a cluster node),
// 20 of which are SIGKILLed at random moments: a moment is a random count of files done, as the
// ledger's job progress tells it (waited for, never a timer), all within the first half of the
// campaign so that every kill finds plates in flight; the victim a random worker holding a plate. A new
// worker replaces each one killed; then errored plates are retried and one worker runs the run
// empty. Checked by clients that share no code with Ferry: rclone reads every object back and
// compares its bytes, the AWS CLI lists the multipart uploads left. Runs on the S3 server
// test-all started (FERRY_TEST_S3_*), in a bucket of its own.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { openLedger } from '../../src/ledger/open.ts';
import { FERRY_BIN, jsonLines, runFerry } from '../../src/testing/cli.ts';
import { seededRandom } from '../../src/testing/random.ts';
import { tempDir } from '../../src/testing/tree.ts';
import { until } from '../../src/testing/until.ts';
import type { FaultCase, FaultRow } from './row.ts';
import { bigFile, bucketOn, ferryEnv, rcloneCheck, sharedS3, smallFiles, uploadsLeft } from './s3-faults.ts';

const GALLERY = 'aggregated/broad_compressed/cellpainting-gallery/cpg0016-jump';
const OBJECTS = 'workspace/segmentation/cellpose_202404/objects';
const PLATES = 10;
const SMALL_FILES = 10_000;
const BIG_FILES = 3;
const BIG_SIZE = 300 * 1024 * 1024;
const WORKERS = 4;
const KILLS = 20;

export const row: FaultRow = {
  id: 'R1',
  title: '20 SIGKILLs of 4 workers uploading 10,000 files + 3 x 300 MB to S3',
  async run() {
    const server = sharedS3();
    const dir = await tempDir('ferry-r1-');
    const results = join(dir, 'results');
    for (let p = 0; p < PLATES; p++) {
      const zarr = join(results, GALLERY, 'source_1', OBJECTS, 'B1', `P${p}`, `P${p}.zarr`);
      await smallFiles(zarr, SMALL_FILES / PLATES, `p${p}-`);
      if (p < BIG_FILES) await bigFile(join(zarr, 'big.bin'), BIG_SIZE, p + 1);
    }
    const total = SMALL_FILES + BIG_FILES;
    const { bucket, drop } = await bucketOn(server, 'r1');
    const env = ferryEnv(server, { FERRY_LEDGER: join(dir, 'ledger.sqlite'), FERRY_WORKDIR: join(dir, 'work') });
    const workers = new Map<number, ChildProcess>();
    const start = () => {
      const child = spawn(process.execPath, [FERRY_BIN, 'work', '--run', 'r1', '--until-empty', '--lease', '5', '--retry-backoff', '0'], {
        env, detached: true, stdio: 'ignore',
      });
      child.on('exit', () => workers.delete(child.pid!));
      workers.set(child.pid!, child);
    };
    const ledger = await openLedger(join(dir, 'ledger.sqlite'));
    let kills = 0;
    try {
      const planned = await runFerry(['jump', 'plan', '--results', results, '--dest', `s3://${bucket}/LAB`, '--run', 'r1', '--transfers', '8'], { env });
      if (planned.code !== 0) throw new Error(`jump plan failed: ${planned.stderr}`);
      const run = await ledger.getRun('r1');
      for (let i = 0; i < WORKERS; i++) start();
      const random = seededRandom(Number(process.env.FAULT_SEED ?? 1));
      const moments = Array.from({ length: KILLS }, () => Math.floor(100 + random() * (total * 0.5 - 100))).sort((a, b) => a - b);
      for (const moment of moments) {
        const victim = await until(`${moment} objects landed and a worker holding a plate`, async () => {
          const left = await ledger.remaining({ runIds: [run.id] });
          if (left.todo + left.ongoing === 0) return 'done' as const;
          const jobs = await ledger.listJobs({ runId: run.id });
          const done = jobs.reduce((n, j) => n + (j.state === 'success' ? total / PLATES : j.state === 'ongoing' ? (j.progress?.done ?? 0) : 0), 0);
          if (done < moment) return undefined;
          const busy = jobs.filter((j) => j.state === 'ongoing').map((j) => Number(j.leaseOwner?.split('/')[1])).filter((p) => workers.has(p));
          return busy.length ? busy[Math.floor(random() * busy.length)] : undefined;
        }, 20 * 60_000, 100);
        if (victim === 'done') break;
        const child = workers.get(victim);
        if (child) {
          const exited = new Promise((r) => child.once('exit', r));
          process.kill(-victim, 'SIGKILL');
          await exited;
          kills++;
        }
        start();
      }
      await until('the workers to run the campaign empty', () => workers.size === 0 || undefined, 30 * 60_000, 500);
      await runFerry(['jobs', 'retry', '--run', 'r1'], { env });
      const last = await runFerry(['work', '--run', 'r1', '--until-empty', '--lease', '5'], { env });

      const jobs = jsonLines((await runFerry(['jobs', 'list', '--run', 'r1', '--json'], { env })).stdout).filter((e) => e.key);
      const notDone = jobs.filter((j) => j.state !== 'success').map((j) => `${j.key}: ${j.state} ${j.lastError ?? ''}`);
      const read = await rcloneCheck(server, join(results, GALLERY), bucket, 'LAB/cpg0016-jump');
      const left = await uploadsLeft(server, bucket);
      const pass = kills === KILLS && last.code === 0 && notDone.length === 0 && read.ok && read.matching === total && left === 0;
      const detail = [
        `kills ${kills} of ${KILLS}; last worker exit ${last.code}`,
        ...notDone.slice(0, 5),
        `rclone check --download: ${read.matching} of ${total} matching (${read.said})`,
        `multipart uploads left: ${left}`,
      ];
      return [{
        done: `${kills} SIGKILLs of ${WORKERS} ferry work process groups uploading ${SMALL_FILES} files + ${BIG_FILES} x 300 MB (JUMP plates)`,
        checked: 'every object read back identical (rclone), every job success, 0 uploads left (aws s3api)',
        pass,
        lost: read.ok && read.matching === total ? (left ? `${left} multipart upload(s) left` : 'nothing') : `${total - read.matching} object(s) missing or differing`,
        detail,
      } satisfies FaultCase];
    } finally {
      for (const pid of workers.keys()) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // Exited meanwhile.
        }
      }
      await ledger.close();
      await drop();
    }
  },
};
