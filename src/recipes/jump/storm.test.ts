// JUMP plates uploaded through a storm of killed workers, as a cluster user meets it: several
// `ferry work --until-empty --lease 5` processes, each in its own process group (setsid), whose
// groups get SIGKILL while a replacement starts; then errored plates are retried and one worker
// runs the run empty. Every round must end with every plate `success`, every object identical by
// content (rclone check --download) and no multipart upload left on the server (the AWS CLI lists
// them): whichever worker completes a file aborts every other upload of it that Ferry started.
//
// Kills are aimed by state, not by the clock, at the moments that leave uploads behind: once the
// server has begun an upload whose id the worker has not yet been told (a proxy in front of the
// real server holds the answer to CreateMultipartUpload back), once parts of an upload are
// journaled, and anywhere in a plate. Rounds run on a SQLite ledger and on a PostgreSQL one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { openLedger } from '../../ledger/open.ts';
import { freshLedger } from '../../testing/ledger.ts';
import { adminClient, awsCliUploads, createBucket, dropBucket, faultProxy, isCreateMultipartUpload, openUploads, patternBytes, s3TestServer } from '../../testing/s3.ts';
import type { S3TestServer } from '../../testing/s3.ts';
import { FERRY_BIN, jsonLines, runFerry } from '../../testing/cli.ts';
import { content, tempDir } from '../../testing/tree.ts';
import { until } from '../../testing/until.ts';

const GALLERY = 'aggregated/broad_compressed/cellpainting-gallery/cpg0016-jump';
const OBJECTS = 'workspace/segmentation/cellpose_202404/objects';
const PLATES = ['P1', 'P2', 'P3'];
const SMALL_FILES = 100;
const WORKERS = 3;
const KILLS = 6;
const ENGINES = ['sqlite', 'postgres', 'sqlite'] as const;

let server: S3TestServer;
let s3: S3Client;
const buckets: string[] = [];

before(() => {
  server = s3TestServer();
  s3 = adminClient(server);
});
after(async () => {
  for (const b of buckets) await dropBucket(s3, b).catch(() => {});
  s3.destroy();
});

/** Three plates of 100 small files and one file of three 5 MiB parts. */
async function plates(): Promise<{ results: string }> {
  const results = join(await tempDir('ferry-storm-'), 'results');
  for (const plate of PLATES) {
    const zarr = join(results, GALLERY, 'source_1', OBJECTS, 'B1', plate, `${plate}.zarr`);
    for (let i = 0; i < SMALL_FILES; i++) {
      await mkdir(join(zarr, `w${i % 10}`), { recursive: true });
      await writeFile(join(zarr, `w${i % 10}`, `f${i}`), content(`${plate}/${i}`, 1000 + i * 17));
    }
    await writeFile(join(zarr, 'big.bin'), patternBytes(15 * 1024 * 1024 + 4321, PLATES.indexOf(plate) + 1));
  }
  return { results };
}

const bigKey = (plate: string) => `LAB/cpg0016-jump/source_1/${OBJECTS}/B1/${plate}/${plate}.zarr/big.bin`;

interface Storm {
  workers: Map<number, ChildProcess & { output: string }>;
  kills: Record<'asking' | 'parts' | 'anywhere', number>;
}

function startWorker(storm: Storm, env: NodeJS.ProcessEnv): void {
  // detached: setsid(), so the worker leads a process group of its own, as `setsid ferry work` does.
  const child = spawn(process.execPath, [FERRY_BIN, 'work', '--run', 'storm', '--until-empty', '--lease', '5', '--retry-backoff', '0'], {
    env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { output: string };
  child.output = '';
  child.stdout!.on('data', (d) => (child.output += d));
  child.stderr!.on('data', (d) => (child.output += d));
  child.on('exit', () => storm.workers.delete(child.pid!));
  storm.workers.set(child.pid!, child);
}

async function killGroup(storm: Storm, pid: number): Promise<boolean> {
  const child = storm.workers.get(pid);
  if (!child) return false;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-pid, 'SIGKILL');
  await exited;
  return true;
}

const pidOf = (owner: string | null | undefined) => Number(owner?.split('/')[1]);

/** rclone reaching the real server (not the proxy) as the remote `storm:`. */
function rcloneEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env, RCLONE_CONFIG_STORM_TYPE: 's3', RCLONE_CONFIG_STORM_PROVIDER: 'Ceph', RCLONE_CONFIG_STORM_ENDPOINT: server.endpoint,
    RCLONE_CONFIG_STORM_ACCESS_KEY_ID: server.accessKey, RCLONE_CONFIG_STORM_SECRET_ACCESS_KEY: server.secretKey,
  };
  delete env.AWS_CA_BUNDLE; // rclone 1.60 fails to start when it is set
  return env;
}

for (const [round, engine] of ENGINES.entries()) {
  test(`storm round ${round + 1} (${engine} ledger): every plate verified, no upload left`, async (t) => {
    const { results } = await plates();
    const b = await createBucket(s3, 'storm');
    buckets.push(b);
    // In front of the real server: the answer to CreateMultipartUpload comes 1.5 s after the server
    // began the upload, and each part's 0.3 s after it is stored, so kills can land in between.
    const proxy = await faultProxy(server.endpoint, {
      delayAnswer: (req) => (isCreateMultipartUpload(req) ? 1500 : /[?&]partNumber=/.test(req.url ?? '') ? 300 : 0),
    });
    const where = await freshLedger(engine);
    const env = {
      ...process.env, AWS_ACCESS_KEY_ID: server.accessKey, AWS_SECRET_ACCESS_KEY: server.secretKey, AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: '', AWS_PROFILE: '', FERRY_LEDGER: where.url, FERRY_WORKDIR: join(results, '..', 'work'),
    };
    const storm: Storm = { workers: new Map(), kills: { asking: 0, parts: 0, anywhere: 0 } };
    const ledger = await openLedger(where.url);
    try {
      const planned = await runFerry(['jump', 'plan', '--results', results, '--dest', `s3://${b}/LAB`, '--run', 'storm', '--transfers', '8',
        '--endpoint-url', proxy.endpoint, '--multipart-threshold', '5M', '--part-size', '5M', '--part-concurrency', '1'], { env });
      assert.equal(planned.code, 0, planned.stderr);
      const run = await ledger.getRun('storm');
      const journal = (await ledger.transferState()).uploads;
      for (let i = 0; i < WORKERS; i++) startWorker(storm, env);

      const bigLeft = async () => {
        const there = await Promise.all(PLATES.map((p) => s3.send(new HeadObjectCommand({ Bucket: b, Key: bigKey(p) })).then(() => true, () => false)));
        return there.includes(false);
      };
      for (let kill = 0; kill < KILLS; kill++) {
        const aim = (['asking', 'parts', 'anywhere'] as const)[kill % 3];
        const victim = await until(`a worker to kill (${aim})`, async () => {
          const left = await ledger.remaining({ runIds: [run.id] });
          if (left.todo + left.ongoing === 0) return 'done' as const;
          if (aim !== 'anywhere' && (await bigLeft())) {
            const rows = await journal.uploadsUnder(proxy.endpoint, b, '');
            let row;
            if (aim === 'asking') {
              // The server has begun an upload nobody has journaled yet: its answer is on the way.
              const named = new Set(rows.map((r) => r.uploadId));
              const begun = new Set((await openUploads(s3, b)).filter((u) => !named.has(u.uploadId)).map((u) => u.key));
              row = rows.find((r) => r.uploadId === undefined && begun.has(r.key));
            } else {
              row = rows.find((r) => r.uploadId !== undefined && r.createdAt !== undefined && r.updatedAt > r.createdAt);
            }
            return row && storm.workers.has(pidOf(row.owner)) ? { pid: pidOf(row.owner), aim } : undefined;
          }
          const busy = (await ledger.listJobs({ runId: run.id, states: ['ongoing'] })).map((j) => pidOf(j.leaseOwner)).filter((p) => storm.workers.has(p));
          return busy.length ? { pid: busy[Math.floor(Math.random() * busy.length)], aim: 'anywhere' as const } : undefined;
        }, 120_000);
        if (victim === 'done') break;
        if (await killGroup(storm, victim.pid)) storm.kills[victim.aim]++;
        startWorker(storm, env);
      }

      await until('the storm workers to finish', () => storm.workers.size === 0 || undefined, 300_000);
      const retried = await runFerry(['jobs', 'retry', '--run', 'storm'], { env });
      assert.equal(retried.code, 0, retried.stderr);
      const last = await runFerry(['work', '--run', 'storm', '--until-empty', '--lease', '5'], { env });
      assert.equal(last.code, 0, last.stderr + last.stdout);

      const jobs = jsonLines((await runFerry(['jobs', 'list', '--run', 'storm', '--json'], { env })).stdout).filter((e) => e.key);
      assert.deepEqual(jobs.map((j) => j.state), PLATES.map(() => 'success'));
      const check = await promisify(execFile)('rclone', ['check', '--download', join(results, GALLERY), `storm:${b}/LAB/cpg0016-jump`], { env: rcloneEnv() })
        .catch((e: { stderr?: string }) => assert.fail(`rclone check --download found differences: ${e.stderr}`));
      assert.match(check.stderr, new RegExp(`0 differences found[\\s\\S]*${PLATES.length * (SMALL_FILES + 1)} matching files`));
      assert.deepEqual(await awsCliUploads(server, b), [], 'no multipart upload is left on the server');
      assert.deepEqual(await journal.uploadsUnder(proxy.endpoint, b, ''), [], 'nothing is left in the journal');
      assert.ok(storm.kills.asking + storm.kills.parts + storm.kills.anywhere >= 3, `the storm killed workers (${JSON.stringify(storm.kills)})`);
      t.diagnostic(`kills ${JSON.stringify(storm.kills)}, uploads left 0`);
    } finally {
      for (const pid of storm.workers.keys()) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // Exited meanwhile.
        }
      }
      await ledger.close();
      await proxy.close();
      await where.dispose();
    }
  });
}
