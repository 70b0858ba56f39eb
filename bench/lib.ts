// Shared by the benchmarks: a scratch folder, the S3 server's keys for every tool, and a timer that
// reads a child's wall time and CPU seconds from GNU time.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FERRY_BIN } from '../src/testing/cli.ts';
import { tempDir } from '../src/testing/tree.ts';

export interface Result {
  tool: string;
  wall: number;
  cpu: number;
  ok: boolean;
}

export const endpoint = process.env.FERRY_TEST_S3_ENDPOINT;
const access = process.env.FERRY_TEST_S3_ACCESS_KEY ?? 'testkey';
const secret = process.env.FERRY_TEST_S3_SECRET_KEY ?? 'testsecret';
export const AWS = '/usr/bin/aws'; // Debian's AWS CLI v2 (the image's `aws` on PATH is v1)
/** An aws-cli v2 command line; 2.9 ignores AWS_ENDPOINT_URL, so the endpoint goes on the command. */
export const aws = (...args: string[]) => [AWS, '--endpoint-url', endpoint ?? '', ...args];

export const root = await tempDir('ferry-bench-');
const home = join(root, 'home');
mkdirSync(join(home, '.aws'), { recursive: true });
export const env: NodeJS.ProcessEnv = {
  ...process.env,
  HOME: home,
  AWS_ACCESS_KEY_ID: access,
  AWS_SECRET_ACCESS_KEY: secret,
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_ENDPOINT_URL: endpoint,
  FERRY_WORKDIR: join(root, 'ferry-work'),
  RCLONE_CONFIG_BENCH_TYPE: 's3',
  RCLONE_CONFIG_BENCH_PROVIDER: 'Ceph',
  RCLONE_CONFIG_BENCH_ENDPOINT: endpoint,
  RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: access,
  RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: secret,
};
delete env.AWS_CA_BUNDLE; // rclone 1.60 fails to start when it is set

/** Runs a command under GNU time; returns wall seconds and the command's CPU seconds. */
export function timed(tool: string, cmd: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Result {
  const out = join(root, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-o', out, '-f', '%e %U %S', ...cmd], { env: opts.env ?? env, cwd: opts.cwd, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const [wall, user, sys] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  const ok = r.status === 0;
  if (!ok) process.stderr.write(`${tool} failed (exit ${r.status}): ${r.stderr.toString().slice(-2000)}\n`);
  return { tool, wall, cpu: user + sys, ok };
}

let bucketSeq = 0;
const buckets: string[] = [];
export function freshBucket(): string {
  const b = `bench-${process.pid}-${bucketSeq++}`;
  buckets.push(b);
  const [cmd, ...args] = aws('s3', 'mb', `s3://${b}`);
  execFileSync(cmd, args, { env, stdio: 'ignore' });
  return b;
}

export const ferry = (...args: string[]) => [process.execPath, FERRY_BIN, ...args];
export const awsBest = () => {
  // aws-cli's documented tuning knobs for many files and large files.
  writeFileSync(join(home, '.aws', 'config'), '[default]\ns3 =\n  max_concurrent_requests = 64\n  max_queue_size = 10000\n  multipart_chunksize = 64MB\n');
};
export const awsDefault = () => rmSync(join(home, '.aws', 'config'), { force: true });

export function report(title: string, results: Result[], targets: string): void {
  const f = results.find((r) => r.tool.startsWith('ferry') && r.tool.includes('default')) ?? results.find((r) => r.tool.startsWith('ferry'))!;
  console.log(`\n### ${title}\n`);
  console.log('| tool | wall s | client CPU s | ferry wall ratio | ferry CPU ratio |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of results) {
    const wr = r === f ? '1.00' : (r.wall / f.wall).toFixed(2);
    const cr = r === f ? '1.00' : (r.cpu / Math.max(f.cpu, 0.01)).toFixed(2);
    console.log(`| ${r.tool}${r.ok ? '' : ' (FAILED)'} | ${r.wall.toFixed(2)} | ${r.cpu.toFixed(2)} | ${wr} | ${cr} |`);
  }
  console.log(`\n(ratio = peer / Ferry: above 1 means Ferry is faster. Target: ${targets})`);
}

/** Empties and removes the buckets made so far, so that runs do not fill the server (memstore keeps all in RAM). */
export async function dropBuckets(): Promise<void> {
  if (buckets.length === 0) return;
  const { DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } = await import('@aws-sdk/client-s3');
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: access, secretAccessKey: secret } });
  for (const Bucket of buckets.splice(0)) {
    for (;;) {
      const page = await client.send(new ListObjectsV2Command({ Bucket }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length === 0) break;
      await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys, Quiet: true } }));
    }
    await client.send(new DeleteBucketCommand({ Bucket }));
  }
  client.destroy();
}

export async function cleanup(): Promise<void> {
  await dropBuckets();
  rmSync(root, { recursive: true, force: true });
}

export function requireS3(): void {
  if (!endpoint) throw new Error('FERRY_TEST_S3_ENDPOINT is not set: start the S3 service (bash scripts/services/s3.sh start) and eval "$(bash scripts/services/s3.sh env)"');
}
