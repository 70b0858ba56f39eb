// Upload speed and client CPU of the s3:// driver against the real Ceph of scripts/services/s3.sh,
// with rclone and the AWS CLI on the same server in the same run: (a) one 1 GiB file, (b) 10,000
// files of 64 KiB. Used to choose the driver's defaults (part size, part concurrency, sockets).
//
//   bash scripts/services/s3.sh start && eval "$(bash scripts/services/s3.sh env)"
//   node bench/s3-driver.ts            # FERRY_BENCH_SMALL=2000 for a quicker run
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { errorMessage } from '../src/errors.ts';
import { openS3Store } from '../src/storage/s3.ts';
import type { RangeSource } from '../src/storage/store.ts';

const MIB = 1024 * 1024;
const endpoint = process.env.FERRY_TEST_S3_ENDPOINT;
const accessKey = process.env.FERRY_TEST_S3_ACCESS_KEY;
const secretKey = process.env.FERRY_TEST_S3_SECRET_KEY;
if (!endpoint || !accessKey || !secretKey) {
  console.error('set FERRY_TEST_S3_* first: eval "$(bash scripts/services/s3.sh env)"');
  process.exit(2);
}
process.env.AWS_ACCESS_KEY_ID = accessKey;
process.env.AWS_SECRET_ACCESS_KEY = secretKey;
const smallCount = Number(process.env.FERRY_BENCH_SMALL ?? 10_000);
const bigSize = Number(process.env.FERRY_BENCH_BIG_MIB ?? 1024) * MIB;
const bigLabel = bigSize === 1024 * MIB ? '1 GiB' : `${bigSize / MIB} MiB`;

interface Row { name: string; wall: number; cpu: number; error?: string }
const rows: Row[] = [];

/** A row that could not be measured: it is printed with what failed, and the run goes on. */
function failed(name: string, error: string): void {
  rows.push({ name, wall: NaN, cpu: NaN, error });
  console.error(`${name} failed: ${error}`);
}

async function measure(name: string, fn: () => Promise<void>): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    await fn();
  } catch (e) {
    failed(name, errorMessage(e));
    return;
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  rows.push({ name, wall, cpu: (cpu.user + cpu.system) / 1e6 });
  console.error(`${name}: ${wall.toFixed(2)} s wall, ${rows.at(-1)!.cpu.toFixed(2)} s CPU`);
}

/** A peer tool as a child process; its CPU from bash's `times` (children's user + system). */
function measureCommand(name: string, cmd: string[], env: Record<string, string | undefined> = {}): void {
  const errFile = path.join(work, 'peer.err');
  const script = `"$@" >/dev/null 2>'${errFile}' || { echo FAILED >&2; tail -3 '${errFile}' >&2; }; times`;
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', script, 'bash', ...cmd], { env: { ...process.env, ...env }, encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0 || r.stderr.includes('FAILED')) return failed(name, r.stderr.replace('FAILED', '').trim().split('\n').join(' / ') || `exit ${r.status}`);
  const seconds = [...r.stdout.trim().split('\n')[1].matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  rows.push({ name, wall, cpu: seconds[0] + seconds[1] });
  console.error(`${name}: ${wall.toFixed(2)} s wall, ${rows.at(-1)!.cpu.toFixed(2)} s CPU`);
}

async function fileSource(file: string): Promise<RangeSource & { close(): Promise<void> }> {
  const fh = await fs.open(file, 'r');
  const { size } = await fh.stat();
  return {
    size,
    async readRange(r) {
      const buf = Buffer.allocUnsafe(r.end - r.start);
      await fh.read(buf, 0, buf.length, r.start);
      return buf;
    },
    close: () => fh.close(),
  };
}

function has(tool: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${tool}`]).status === 0;
}

const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-bench-s3-'));
const admin = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: accessKey, secretAccessKey: secretKey } });
const bucket = `ferry-bench-${Date.now().toString(36)}`;
await admin.send(new CreateBucketCommand({ Bucket: bucket }));
try {
  const big = path.join(work, 'big.raw');
  execFileSync('bash', ['-c', `head -c ${bigSize} /dev/urandom > '${big}'`]);
  const smallDir = path.join(work, 'small');
  await fs.mkdir(smallDir);
  const seed = Buffer.alloc(64 * 1024);
  for (let i = 0; i < smallCount; i++) {
    seed.writeUInt32LE(i, 0);
    await fs.writeFile(path.join(smallDir, `f${String(i).padStart(5, '0')}.bin`), seed);
  }
  const names = await fs.readdir(smallDir);

  // (a) one large file: part size x part concurrency.
  const configs = (process.env.FERRY_BENCH_CONFIGS ?? '16x4,8x8,32x4,64x4,32x8').split(',').map((c) => c.split('x').map(Number));
  for (const [partMiB, conc] of configs) {
    const store = await openS3Store(bucket, `big-${partMiB}x${conc}/`, { endpoint, partSize: partMiB * MIB, partConcurrency: conc });
    const src = await fileSource(big);
    await measure(`ferry ${bigLabel}, ${partMiB} MiB parts x ${conc}`, async () => { await store.write('big.raw', src); });
    await src.close();
    await store.close();
  }

  // (b) many small files: files in flight.
  for (const inFlight of (process.env.FERRY_BENCH_INFLIGHT ?? '16,32,64').split(',').map(Number)) {
    const store = await openS3Store(bucket, `small-${inFlight}/`, { endpoint, maxSockets: inFlight });
    const queue = [...names];
    await measure(`ferry ${smallCount} x 64 KiB, ${inFlight} in flight`, async () => {
      await Promise.all(Array.from({ length: inFlight }, async () => {
        for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
          await store.write(n, await fs.readFile(path.join(smallDir, n)));
        }
      }));
    });
    await store.close();
  }

  if (!has('rclone')) failed('rclone', 'not installed (bash scripts/services/bench-tools.sh install)');
  else {
    const remote = `:s3,provider=Ceph,endpoint='${endpoint}',access_key_id=${accessKey},secret_access_key=${secretKey}:${bucket}`;
    const env = { AWS_CA_BUNDLE: undefined };
    measureCommand(`rclone copy ${bigLabel} (defaults)`, ['rclone', 'copy', big, `${remote}/rclone-big/`], env);
    measureCommand(`rclone copy ${bigLabel} (--s3-chunk-size 64M --s3-upload-concurrency 8)`, ['rclone', 'copy', '--s3-chunk-size', '64M', '--s3-upload-concurrency', '8', big, `${remote}/rclone-big2/`], env);
    measureCommand(`rclone copy ${smallCount} x 64 KiB (defaults)`, ['rclone', 'copy', smallDir, `${remote}/rclone-small/`], env);
    measureCommand(`rclone copy ${smallCount} x 64 KiB (--transfers 32 --checkers 32)`, ['rclone', 'copy', '--transfers', '32', '--checkers', '32', smallDir, `${remote}/rclone-small2/`], env);
  }
  if (!has('aws')) failed('aws', 'not installed (bash scripts/services/bench-tools.sh install)');
  else {
    const version = spawnSync('aws', ['--version'], { encoding: 'utf8' });
    const label = `aws ${(version.stdout || version.stderr).split(' ')[0].replace('aws-cli/', '')}`;
    measureCommand(`${label} s3 cp ${bigLabel}`, ['aws', '--endpoint-url', endpoint, 's3', 'cp', big, `s3://${bucket}/aws-big/big.raw`]);
    measureCommand(`${label} s3 cp ${smallCount} x 64 KiB`, ['aws', '--endpoint-url', endpoint, 's3', 'cp', '--recursive', smallDir, `s3://${bucket}/aws-small/`]);
  }

  const bestOf = (re: RegExp, by: 'wall' | 'cpu') => rows.filter((r) => !r.error && re.test(r.name)).sort((a, b) => a[by] - b[by])[0];
  console.log('| run | wall s | client CPU s |');
  console.log('|---|---:|---:|');
  for (const r of rows) console.log(r.error ? `| ${r.name} (FAILED: ${r.error}) | - | - |` : `| ${r.name} | ${r.wall.toFixed(2)} | ${r.cpu.toFixed(2)} |`);
  for (const [label, re] of [[bigLabel, new RegExp(bigLabel)], [`${smallCount} x 64 KiB`, /64 KiB/]] as const) {
    const ferry = bestOf(new RegExp(`^ferry .*${re.source}`), 'wall');
    for (const peer of ['rclone', 'aws']) {
      const other = bestOf(new RegExp(`^${peer} .*${re.source}`), 'wall');
      if (ferry && other) console.log(`${label}: best ferry / best ${peer}: wall ${(ferry.wall / other.wall).toFixed(2)}x, CPU ${(ferry.cpu / other.cpu).toFixed(2)}x`);
    }
  }
} finally {
  admin.destroy();
  await fs.rm(work, { recursive: true, force: true });
  console.error(`bucket ${bucket} left on the throw-away server`);
}
