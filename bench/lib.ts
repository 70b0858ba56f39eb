// Shared by the benchmarks: a scratch folder, the S3 server's keys for every tool, a timer that
// reads a child's wall time and CPU seconds from GNU time, and rows that fail alone: a peer that is
// missing or fails (a server error, a bucket already gone) gives a FAILED row saying why, and every
// other row still prints its figures.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { errorMessage } from '../src/errors.ts';
import { FERRY_BIN } from '../src/testing/cli.ts';
import { tempDir } from '../src/testing/tree.ts';

export interface Result {
  tool: string;
  wall: number;
  cpu: number;
  /** Peak resident memory of the command, MiB (GNU time's maximum RSS). */
  rssMiB: number;
  ok: boolean;
  /** What failed, for a row that did not finish. */
  error?: string;
}

/** The row of a tool that could not be measured. */
export function failedRow(tool: string, error: unknown): Result {
  const r = { tool, wall: NaN, cpu: NaN, rssMiB: NaN, ok: false, error: errorMessage(error) };
  process.stderr.write(`${tool} failed: ${r.error}\n`);
  return r;
}

/** Measures one row; whatever goes wrong while doing so becomes that row's failure, not the run's. */
export async function row(tool: string, run: () => Result | Promise<Result>): Promise<Result> {
  try {
    return await run();
  } catch (e) {
    return failedRow(tool, e);
  }
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
  // Each run's own ledger (and manifests beside it), not the checkout's .ferry/.
  FERRY_LEDGER: join(root, 'ledger.sqlite'),
  RCLONE_CONFIG_BENCH_TYPE: 's3',
  RCLONE_CONFIG_BENCH_PROVIDER: 'Ceph',
  RCLONE_CONFIG_BENCH_ENDPOINT: endpoint,
  RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: access,
  RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: secret,
};
delete env.AWS_CA_BUNDLE; // rclone 1.60 fails to start when it is set

/** Runs a command under GNU time; returns wall seconds, the command's CPU seconds and peak RSS. */
export function timed(tool: string, cmd: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Result {
  const out = join(root, 'time.txt');
  rmSync(out, { force: true });
  const r = spawnSync('/usr/bin/time', ['-o', out, '-f', '%e %U %S %M', ...cmd], { env: opts.env ?? env, cwd: opts.cwd, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  if (r.error) return failedRow(tool, r.error);
  if (r.status !== 0) {
    // GNU time says "cannot run" for a missing tool; otherwise the tool's own last words.
    const said = r.stderr.toString().trim().split('\n').filter((l) => !/^Command exited with non-zero status/.test(l)).slice(-3).join(' / ');
    return failedRow(tool, `exit ${r.status}${said ? `: ${said}` : ''}`);
  }
  const [wall, user, sys, rssKiB] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { tool, wall, cpu: user + sys, rssMiB: rssKiB / 1024, ok: true };
}

let client: S3Client | undefined;
/** The benchmarks' own S3 client for buckets: no peer tool needs to work for any row to run. */
function s3(): S3Client {
  client ??= new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: access, secretAccessKey: secret } });
  return client;
}

let bucketSeq = 0;
const buckets: string[] = [];
export async function freshBucket(name = 'bench'): Promise<string> {
  requireS3();
  const b = `${name}-${process.pid}-${bucketSeq++}`;
  await s3().send(new CreateBucketCommand({ Bucket: b }));
  buckets.push(b);
  return b;
}

/** `ferry ARGS` as a user runs it: the program itself, so that its launcher's Node flags apply. */
export const ferry = (...args: string[]) => [FERRY_BIN, ...args];
export const awsBest = () => {
  // aws-cli's documented tuning knobs for many files and large files.
  writeFileSync(join(home, '.aws', 'config'), '[default]\ns3 =\n  max_concurrent_requests = 64\n  max_queue_size = 10000\n  multipart_chunksize = 64MB\n');
};
export const awsDefault = () => rmSync(join(home, '.aws', 'config'), { force: true });

export function report(title: string, results: Result[], targets: string): void {
  const f = results.find((r) => r.tool.startsWith('ferry') && r.tool.includes('default')) ?? results.find((r) => r.tool.startsWith('ferry'));
  const base = f?.ok ? f : undefined;
  console.log(`\n### ${title}\n`);
  console.log('| tool | wall s | client CPU s | peak RSS MiB | ferry wall ratio | ferry CPU ratio |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    if (!r.ok) {
      console.log(`| ${r.tool} (FAILED: ${r.error ?? 'see above'}) | - | - | - | - | - |`);
      continue;
    }
    const wr = !base ? 'n/a' : r === base ? '1.00' : (r.wall / base.wall).toFixed(2);
    const cr = !base ? 'n/a' : r === base ? '1.00' : (r.cpu / Math.max(base.cpu, 0.01)).toFixed(2);
    console.log(`| ${r.tool} | ${r.wall.toFixed(2)} | ${r.cpu.toFixed(2)} | ${Number.isNaN(r.rssMiB) ? '-' : r.rssMiB.toFixed(0)} | ${wr} | ${cr} |`);
  }
  console.log(`\n(ratio = peer / Ferry: above 1 means Ferry is faster${base ? '' : '; no ratios: the Ferry row failed'}. Target: ${targets})`);
}

/**
 * Empties and removes the buckets made so far, so that runs do not fill the server (memstore keeps
 * all in RAM). A bucket already gone is fine; a bucket that cannot be removed is said and left.
 */
export async function dropBuckets(): Promise<void> {
  for (const Bucket of buckets.splice(0)) {
    try {
      for (;;) {
        const page = await s3().send(new ListObjectsV2Command({ Bucket }));
        const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
        if (keys.length === 0) break;
        await s3().send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys, Quiet: true } }));
      }
      await s3().send(new DeleteBucketCommand({ Bucket }));
    } catch (e) {
      if ((e as { name?: string }).name !== 'NoSuchBucket') process.stderr.write(`bucket ${Bucket} left on the server: ${errorMessage(e)}\n`);
    }
  }
}

export async function cleanup(): Promise<void> {
  await dropBuckets();
  client?.destroy();
  rmSync(root, { recursive: true, force: true });
}

export function requireS3(): void {
  if (!endpoint) throw new Error('FERRY_TEST_S3_ENDPOINT is not set: start the S3 service (bash scripts/services/s3.sh start) and eval "$(bash scripts/services/s3.sh env)"');
}
