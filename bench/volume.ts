// Volume ingest: a 2048 x 2048 x 256 uint8 stack of PNG sections to Neuroglancer precomputed with
// 64^3 chunks and gzip, by Ferry (`ferry volume plan` + `ferry work`), by TensorStore (same
// sharding spec, same chunks and compression, same CPU threads) and by zarr-python (Debian
// python3-zarr, 64^3 chunks, gzip), to a folder and to the real S3 server; against Node's zlib
// alone on the same chunk bytes with the same cores; plus what a downsampled scale and sharding
// cost. Every tool decodes the PNG sections itself. Needs the s3, tensorstore and neuroglancer
// services (zarr-python and boto3 come with bench-tools.sh's packages).
//   node bench/volume.ts            (FERRY_BENCH_VOLUME_Z=64 for a quick, smaller run;
//                                    FERRY_BENCH_VOLUME_S3=0 for the folder rows only, no S3 server)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { adminClient, createBucket, dropBucket, s3TestServer } from '../src/storage/s3-test-support.ts';
import { emSection } from '../src/testing/em-data.ts';
import { endpoint, env, ferry, root, timed } from './lib.ts';
import type { Result } from './lib.ts';

const X = 2048;
const Y = 2048;
const Z = Number(process.env.FERRY_BENCH_VOLUME_Z ?? 256);
const THREADS = availableParallelism();
const GZIP_LEVEL = 6; // zlib's default: TensorStore's, and zarr is given the same (Ferry's is its engine's)
const S3_ROWS = process.env.FERRY_BENCH_VOLUME_S3 !== '0';
const MIB = (X * Y * Z) / 2 ** 20;
const TS_PYTHON = process.env.FERRY_PYTHON ?? 'python3';
const ZARR_PYTHON = '/usr/bin/python3'; // Debian's python3-zarr lives in the system interpreter

/** The stack, made once and kept between runs (it is deterministic). */
async function stack(): Promise<string> {
  const dir = join(tmpdir(), `ferry-bench-volume-${X}x${Y}x${Z}`);
  if (existsSync(join(dir, 'complete'))) return dir;
  mkdirSync(dir, { recursive: true });
  for (let z = 0; z < Z; z++) {
    await sharp(emSection(z, X, Y), { raw: { width: X, height: Y, channels: 1 } }).toColourspace('b-w').png().toFile(join(dir, `section_${String(z).padStart(4, '0')}.png`));
  }
  writeFileSync(join(dir, 'complete'), '');
  return dir;
}

/**
 * gzip of every 64^3 chunk of the stack on `THREADS` threads (run with UV_THREADPOOL_SIZE=THREADS).
 * 'ferry' is Ferry's gzipChunk (its engine, libdeflate when built, at its default level for
 * images), each chunk one job on the pool; 'defaults' is Node's zlib.gzip at level 6 as it comes,
 * which returns to the main thread every 16 KiB and joins the pieces. Prints the seconds and the
 * compressed bytes.
 */
async function zlibChild(): Promise<void> {
  const { gzip } = await import('node:zlib');
  const { promisify } = await import('node:util');
  const { defaultGzipLevel, gzipChunk } = await import('../src/codecs/gzip.ts');
  const gz = process.argv[4] === 'defaults' ? (b: Buffer) => promisify(gzip)(b, { level: GZIP_LEVEL }) : (b: Buffer) => gzipChunk(b, defaultGzipLevel('image'));
  const dir = process.argv[3];
  const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
  const chunks: Buffer[] = [];
  for (let z0 = 0; z0 < files.length; z0 += 64) {
    const planes = await Promise.all(files.slice(z0, z0 + 64).map((f) => sharp(join(dir, f)).toColourspace('b-w').raw().toBuffer()));
    for (let y0 = 0; y0 < Y; y0 += 64) {
      for (let x0 = 0; x0 < X; x0 += 64) {
        const c = Buffer.allocUnsafe(64 * 64 * planes.length);
        let o = 0;
        for (const p of planes) for (let y = y0; y < y0 + 64; y++, o += 64) p.copy(c, o, y * X + x0, y * X + x0 + 64);
        chunks.push(c);
      }
    }
  }
  const t0 = performance.now();
  let next = 0;
  let bytes = 0;
  // Two chunks per thread in flight, so a thread never waits for the main thread to hand it one.
  await Promise.all(Array.from({ length: 2 * THREADS }, async () => {
    while (next < chunks.length) {
      const out = await gz(chunks[next++]);
      bytes += out.length;
    }
  }));
  process.stdout.write(JSON.stringify({ seconds: (performance.now() - t0) / 1000, bytes }) + '\n');
}

const TS_SCRIPT = `
import glob, json, sys
import numpy as np
import tensorstore as ts
secs, kvstore, scale, threads = sorted(glob.glob(sys.argv[1] + "/*.png")), json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
ctx = ts.Context({"data_copy_concurrency": {"limit": threads}})
vol = ts.open({"driver": "neuroglancer_precomputed", "kvstore": kvstore, "create": True, "delete_existing": True,
               "multiscale_metadata": {"type": "image", "data_type": "uint8", "num_channels": 1}, "scale_metadata": scale}, context=ctx).result()
# Shards span the whole depth: one transaction writes each shard once, at commit.
with ts.Transaction() as txn:
    for z0 in range(0, len(secs), 64):
        reads = [ts.open({"driver": "png", "kvstore": {"driver": "file", "path": f}}, context=ctx).result().read() for f in secs[z0:z0 + 64]]
        slab = np.stack([r.result()[:, :, 0].T for r in reads], axis=-1)
        vol.with_transaction(txn)[:, :, z0:z0 + slab.shape[2], 0].write(slab).result()
`;

const ZARR_SCRIPT = `
import sys
from collections.abc import MutableMapping
import numpy as np
import zarr
from numcodecs import GZip
from PIL import Image
import glob
secs, out, level = sorted(glob.glob(sys.argv[1] + "/*.png")), sys.argv[2], int(sys.argv[3])

class S3Map(MutableMapping):
    """zarr's store protocol over boto3 (Debian has no s3fs): one PUT per chunk."""
    def __init__(self, url):
        import boto3, os
        self.bucket, _, self.prefix = url[len("s3://"):].partition("/")
        self.s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    def __getitem__(self, k):
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=self.prefix + k)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            raise KeyError(k)
    def __setitem__(self, k, v):
        self.s3.put_object(Bucket=self.bucket, Key=self.prefix + k, Body=bytes(v))
    def __delitem__(self, k):
        self.s3.delete_object(Bucket=self.bucket, Key=self.prefix + k)
    def __iter__(self):
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for o in page.get("Contents", []):
                yield o["Key"][len(self.prefix):]
    def __len__(self):
        return sum(1 for _ in self)

store = S3Map(out) if out.startswith("s3://") else zarr.DirectoryStore(out)
arr = zarr.open(store=store, mode="w", shape=(len(secs), ${Y}, ${X}), chunks=(64, 64, 64), dtype="u1", compressor=GZip(level=level))
for z0 in range(0, len(secs), 64):
    arr[z0:z0 + 64] = np.stack([np.asarray(Image.open(f)) for f in secs[z0:z0 + 64]])
`;

function python(interp: string, script: string, args: string[]): string[] {
  const file = join(root, `${Math.random().toString(36).slice(2)}.py`);
  writeFileSync(file, script);
  return [interp, file, ...args];
}

/** Bytes of the files under `dir`. */
function folderBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).reduce((n, e) => n + (e.isFile() ? statSync(join(e.parentPath, e.name)).size : 0), 0);
}

async function main(): Promise<void> {
  const { GZIP_ENGINE, defaultGzipLevel } = await import('../src/codecs/gzip.ts');
  const sections = await stack();
  const ferryEnv = { ...env, UV_THREADPOOL_SIZE: String(THREADS) };
  const s3Flags = ['--endpoint-url', endpoint!, '--path-style', '--region', 'us-east-1'];
  let n = 0;
  const ferryIngest = (label: string, dst: string, flags: string[]): Result => {
    const ledger = join(root, `ledger-${n++}.sqlite`);
    const plan = [...ferry('volume', 'plan', sections, dst, '--voxel-size', '4,4,40', '--chunk', '64,64,64', '--nonzero-threshold', '0', '--ledger', ledger, ...flags)];
    const work = [...ferry('work', '--ledger', ledger, '--until-empty', '--concurrency', '2')];
    const quote = (a: string[]) => a.map((s) => `'${s}'`).join(' ');
    return timed(label, ['sh', '-c', `${quote(plan)} >/dev/null && ${quote(work)} >/dev/null`], { env: ferryEnv });
  };
  // TensorStore's scale_metadata names the one chunk shape chunk_size.
  const shardedScale = (dst: string) => {
    const { chunk_sizes: [chunk], ...scale } = JSON.parse(readFileSync(join(dst, 'info'), 'utf8')).scales[0];
    return { ...scale, chunk_size: chunk };
  };
  const results: Result[] = [];
  const by = (prefix: string): Result => results.find((r) => r.tool.startsWith(prefix)) ?? { tool: prefix, wall: NaN, cpu: NaN, ok: false };
  // Each row as it finishes, so a failure late in the run (the S3 server going away) loses nothing.
  const log = (r: Result) => process.stderr.write(`${r.tool}: ${r.ok ? `${r.wall.toFixed(1)} s wall, ${Number.isNaN(r.cpu) ? '-' : r.cpu.toFixed(1)} s cpu` : 'FAILED'}\n`);
  const add = (r: Result) => {
    results.push(r);
    log(r);
  };

  const compressed = new Map<'ferry' | 'defaults', number>();
  const zlibAlone = (call: 'ferry' | 'defaults') => {
    const zl = spawnSync(process.execPath, [import.meta.filename, 'zlib-child', sections, call], { env: { ...process.env, UV_THREADPOOL_SIZE: String(THREADS) }, encoding: 'utf8', maxBuffer: 1 << 20 });
    const out = zl.status === 0 ? (JSON.parse(zl.stdout.trim().split('\n').pop()!) as { seconds: number; bytes: number }) : undefined;
    if (out) compressed.set(call, out.bytes);
    return { seconds: out?.seconds ?? NaN, ok: zl.status === 0 };
  };
  const ferryDeflate = `${GZIP_ENGINE} -${defaultGzipLevel('image')}`;
  const zlibRow = (call: 'ferry' | 'defaults'): Result => {
    const z = zlibAlone(call);
    const tool =
      call === 'ferry'
        ? `ferry's gzip alone (${ferryDeflate}), one pool job per chunk, ${THREADS} threads`
        : `node zlib alone, zlib's default call (16 KiB pieces), gzip -${GZIP_LEVEL}, ${THREADS} threads`;
    return { tool, wall: z.seconds, cpu: NaN, ok: z.ok };
  };

  const folder = (name: string) => join(root, name);
  // Sharded: one task holds the whole depth, so shards (16x16x4 chunks, 256 MiB) are whole per task.
  const shardedFlags = ['--sharded', '--task-size', `${X},${Y},${Z}`];
  const unshardedFlags = ['--task-size', `${X},${Y},64`];
  // The rows the targets compare run twice each, in turns (zlib, Ferry, TensorStore, zarr, then
  // all again), and the faster run of each counts: this shared machine's speed drifts by 10-20%
  // over minutes, and a drift during one tool's only run would decide a ratio.
  const fastest = new Map<string, Result>();
  let spec: unknown;
  const outputBytes = new Map<string, number>();
  for (let round = 0; round < 2; round++) {
    const runs: (() => Result)[] = [
      () => zlibRow('defaults'),
      () => zlibRow('ferry'),
      () => {
        const r = ferryIngest('ferry -> folder, sharded gzip', folder(`ferry-sharded-${round}`), shardedFlags);
        spec ??= shardedScale(folder(`ferry-sharded-${round}`));
        if (r.ok) outputBytes.set('ferry', folderBytes(folder(`ferry-sharded-${round}`)));
        return r;
      },
      () => {
        const r = timed('tensorstore -> folder, sharded gzip (same spec)', python(TS_PYTHON, TS_SCRIPT, [sections, JSON.stringify({ driver: 'file', path: `${folder('ts-sharded')}/` }), JSON.stringify(spec), String(THREADS)]));
        if (r.ok) outputBytes.set('tensorstore', folderBytes(folder('ts-sharded')));
        return r;
      },
      () => timed('zarr-python -> folder, 64^3 gzip', python(ZARR_PYTHON, ZARR_SCRIPT, [sections, folder(`zarr-${round}`), String(GZIP_LEVEL)])),
    ];
    for (const run of runs) {
      const r = run();
      log(r);
      const best = fastest.get(r.tool);
      if (!best || (r.ok && (!best.ok || r.wall < best.wall))) fastest.set(r.tool, r);
    }
    // Each round's output goes before the next: the disk holds one copy of each at a time.
    for (const name of [`ferry-sharded-${round}`, `zarr-${round}`]) rmSync(folder(name), { recursive: true, force: true });
  }
  results.push(...[...fastest.values()].map((r) => ({ ...r, tool: `${r.tool} (faster of 2)` })));
  const ferryDeflateSeconds = by("ferry's gzip alone").wall;
  const zlibDefaultSeconds = by("node zlib alone, zlib's default").wall;
  add(ferryIngest('ferry -> folder, unsharded raw (static-server form)', folder('ferry-raw'), unshardedFlags));
  add(ferryIngest('ferry -> folder, unsharded raw + 2x2x1 scale', folder('ferry-raw-2'), [...unshardedFlags, '--scales', '2']));
  add(ferryIngest('ferry -> folder, sharded gzip + 2x2x1 scale', folder('ferry-sharded-2'), [...shardedFlags, '--scales', '2']));

  const server = S3_ROWS ? s3TestServer() : undefined;
  const client = server && adminClient(server);
  // Each S3 run on a bucket of its own, emptied before the next: no tool lists or writes into a
  // bucket that holds another's objects.
  const onBucket = async (run: (bucket: string) => Result) => {
    if (!server || !client) return;
    const bucket = await createBucket(client, 'bench-volume');
    try {
      add(run(bucket));
    } finally {
      await dropBucket(client, bucket);
    }
  };
  await onBucket((b) => ferryIngest('ferry -> S3, unsharded gzip (Content-Encoding)', `s3://${b}/ferry-plain`, [...unshardedFlags, ...s3Flags]));
  await onBucket((b) => ferryIngest('ferry -> S3, sharded gzip', `s3://${b}/ferry-sharded`, [...shardedFlags, ...s3Flags]));
  await onBucket((b) => timed('tensorstore -> S3, sharded gzip (same spec)', python(TS_PYTHON, TS_SCRIPT, [sections, JSON.stringify({ driver: 's3', bucket: b, path: 'ts-sharded/', endpoint: server!.endpoint, aws_region: 'us-east-1' }), JSON.stringify(spec), String(THREADS)])));
  await onBucket((b) => timed('zarr-python -> S3, 64^3 gzip', python(ZARR_PYTHON, ZARR_SCRIPT, [sections, `s3://${b}/zarr/`, String(GZIP_LEVEL)])));
  rmSync(root, { recursive: true, force: true });

  console.log(`\n${X} x ${Y} x ${Z} uint8 (${MIB.toFixed(0)} MiB) from PNG sections, 64^3 chunks, gzip: Ferry ${ferryDeflate}, the others zlib -${GZIP_LEVEL}; ${THREADS} CPU threads\n`);
  const rows = results.map((r) => [r.tool, r.ok ? r.wall.toFixed(1) : 'FAILED', Number.isNaN(r.cpu) ? '-' : r.cpu.toFixed(1), r.ok ? (MIB / r.wall).toFixed(0) : '-']);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...[['tool', 'wall s', 'cpu s', 'MiB/s'], ...rows].map((r) => r[i].length)));
  for (const r of [['tool', 'wall s', 'cpu s', 'MiB/s'], ...rows]) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  const ratio = (a: Result, b: Result) => (a.ok && b.ok ? (b.wall / a.wall).toFixed(2) : 'n/a');
  const pct = (seconds: number, r: Result) => (r.ok && Number.isFinite(seconds) ? ((seconds / r.wall) * 100).toFixed(0) : 'n/a');
  const sizeVs = (a: number | undefined, b: number | undefined) => (a && b ? `${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(1)}%` : 'n/a');
  const more = (a: Result, b: Result) => (a.ok && b.ok ? `${a.wall >= b.wall ? '+' : ''}${((a.wall / b.wall - 1) * 100).toFixed(0)}` : 'n/a');
  const fs = by('ferry -> folder, sharded gzip');
  const s3p = by('ferry -> S3, unsharded');
  const s3s = by('ferry -> S3, sharded gzip');
  console.log(`
ferry vs tensorstore, folder sharded gzip:   ${ratio(fs, by('tensorstore -> folder'))}x (target >= 2)
ferry vs tensorstore, S3 sharded gzip:       ${ratio(s3s, by('tensorstore -> S3'))}x (target > 1)
ferry vs zarr-python, folder gzip:           ${ratio(fs, by('zarr-python -> folder'))}x (target >= 2)
ferry vs zarr-python, S3 gzip:               ${ratio(s3p, by('zarr-python -> S3'))}x (target >= 2)
ferry folder sharded gzip / its gzip alone: ${pct(ferryDeflateSeconds, fs)}% (${ferryDeflate}; ${pct(zlibDefaultSeconds, fs)}% of node zlib -${GZIP_LEVEL} alone)
ferry S3 unsharded gzip / its gzip alone:    ${pct(ferryDeflateSeconds, s3p)}%
size of ferry's chunks vs zlib -${GZIP_LEVEL}'s:       ${sizeVs(compressed.get('ferry'), compressed.get('defaults'))} (${ferryDeflate}, the same chunks)
size of ferry's sharded folder vs ts's:      ${sizeVs(outputBytes.get('ferry'), outputBytes.get('tensorstore'))}
cost of a 2x2x1 scale, unsharded raw folder: ${more(by('ferry -> folder, unsharded raw +'), by('ferry -> folder, unsharded raw ('))}% time
cost of a 2x2x1 scale, sharded gzip folder:  ${more(by('ferry -> folder, sharded gzip +'), fs)}% time
cost of sharding on S3 (sharded/unsharded):  ${s3s.ok && s3p.ok ? (s3s.wall / s3p.wall).toFixed(2) : 'n/a'}x time`);
}

if (process.argv[2] === 'zlib-child') await zlibChild();
else await main();
