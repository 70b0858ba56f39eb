// Row R2: the S3 server (radosgw) SIGKILLed and started again twice in the middle of a `ferry sync`
// of 3,000 small files and two 64 MB files (sent in parts): the run must complete, every file
// verified. The moments are counts of objects landed (a fifth; 20 more once it serves again), waited for; the
// server is a private Ceph of this row's own (see s3-faults.ts: FERRY_FAULTS_S3_PORT, default
// 7880), never the shared one. rclone reads every object back; the AWS CLI lists uploads left.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { collect, jsonLines, startFerry } from '../../src/testing/cli.ts';
import { tempDir } from '../../src/testing/tree.ts';
import { until } from '../../src/testing/until.ts';
import type { FaultRow } from './row.ts';
import { bigFile, bucketOn, ferryEnv, privateS3, rcloneCheck, smallFiles, uploadsLeft } from './s3-faults.ts';

const SMALL = 3000;
const BIG = 2;
const S3_SH = fileURLToPath(new URL('../../scripts/services/s3.sh', import.meta.url));

async function objectCount(s3: S3Client, bucket: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    n += page.KeyCount ?? 0;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return n;
}

export const row: FaultRow = {
  id: 'R2',
  title: 'radosgw killed and restarted twice in the middle of a sync',
  async run() {
    const server = await privateS3('r2');
    try {
      const dir = await tempDir('ferry-r2-');
      const src = join(dir, 'src');
      await smallFiles(src, SMALL, 'f', 5);
      for (let i = 0; i < BIG; i++) await bigFile(join(src, `big${i}.bin`), 64 * 1024 * 1024, i + 7);
      const total = SMALL + BIG;
      const { bucket, s3, drop } = await bucketOn(server, 'r2');
      try {
        const env = ferryEnv(server, { FERRY_LEDGER: join(dir, 'ledger.sqlite') });
        // Slowed so that the restarts fall in the middle; parts of 8 MiB, so large files are multipart.
        const child = startFerry(['sync', src, `s3://${bucket}/r2`, '--json', '--bwlimit', '2M', '--transfers', '8', '--part-size', '8M'], { env });
        const done = collect(child);
        const restarts: string[] = [];
        let at = Math.floor(total / 5);
        for (let kill = 0; kill < 2; kill++) {
          let seen = 0;
          const landed = await until(() => `${at} objects landed (seen ${seen}; ferry ${child.exitCode === null ? 'running' : `exited ${child.exitCode}`})`, async () => {
            if (child.exitCode !== null) return -1;
            seen = await objectCount(s3, bucket);
            return seen >= at ? seen : undefined;
          }, 10 * 60_000, 100);
          if (landed < 0) {
            restarts.push(`ferry had ended before the ${kill + 1}. kill (${seen} objects seen)`);
            break;
          }
          // The process listening on the server's port: radosgw, whatever its pid file says.
          const port = new URL(server.endpoint).port;
          const { stdout: listening } = await promisify(execFile)('ss', ['-Hltnp', `sport = :${port}`]);
          const pids = [...new Set([...listening.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])))];
          if (pids.length === 0) throw new Error(`nothing listens on port ${port}: ${listening}`);
          for (const pid of pids) process.kill(pid, 'SIGKILL');
          await until(`radosgw on port ${port} to be gone`, async () => !(await promisify(execFile)('ss', ['-Hltn', `sport = :${port}`])).stdout.trim());
          const t = Date.now();
          await promisify(execFile)('bash', [S3_SH, 'restart-rgw'], { env: server.env });
          restarts.push(`killed at ${landed} objects, serving again after ${((Date.now() - t) / 1000).toFixed(1)} s`);
          // The second time as soon as the sync has moved on from the first: the server flapping.
          at = landed + 20;
        }
        const r = await done;
        const summary = jsonLines(r.stdout).find((e) => e.type === 'summary');
        const read = await rcloneCheck(server, src, bucket, 'r2');
        const left = await uploadsLeft(server, bucket);
        const pass = restarts.filter((x) => x.startsWith('killed')).length === 2 && r.code === 0 && summary?.failedFiles === 0 && summary?.verifiedFiles === total && read.ok && read.matching === total && left === 0;
        return [{
          done: `radosgw SIGKILLed and restarted ${restarts.length} times during a sync of ${SMALL} files (5-100 KB) + ${BIG} x 64 MB`,
          checked: 'exit 0, every file verified, read back identical (rclone), 0 uploads left (aws s3api)',
          pass,
          lost: read.ok && read.matching === total ? 'nothing' : `${total - read.matching} object(s) missing or differing`,
          detail: [...restarts, `ferry exit ${r.code}, verified ${summary?.verifiedFiles} of ${total}, failed ${summary?.failedFiles}`, `rclone: ${read.said}`, `uploads left ${left}`,
            ...(pass ? [] : [r.stderr.split('\n').slice(-5).join(' | ')])],
        }];
      } finally {
        await drop();
      }
    } finally {
      await server.stop();
    }
  },
};
