// Volume ingest: a 2048 x 2048 x 256 uint8 stack of PNG sections to Neuroglancer precomputed with
// 64^3 chunks and gzip, by Ferry (`ferry volume plan` + `ferry work`), by TensorStore (same
// sharding spec, same chunks and compression, same CPU threads) and by zarr-python (Debian
// python3-zarr, 64^3 chunks, gzip), to a folder and to the real S3 server; against Node's zlib
// alone on the same chunk bytes with the same cores; plus what a downsampled scale and sharding
// cost. Every tool decodes the PNG sections itself. The same sections as HDF5 files (seed 003's
// aligned stack: a registry, dataset img; uncompressed, and gzip in 256^2 chunks), by Ferry and by
// h5py reading them with TensorStore writing (same spec). Needs the s3 and tensorstore services
// (zarr-python and boto3 come with bench-tools.sh's packages; h5py with tensorstore.sh).
//   node bench/volume.ts            (FERRY_BENCH_VOLUME_Z=64 for a quick, smaller run;
//                                    FERRY_BENCH_VOLUME_ROWS=png,hdf5,more (default: all) for some
//                                    groups: png and hdf5 are the compared folder rows, run in turns;
//                                    more is the rest, PNG sections to a folder unsharded and to S3,
//                                    whose TensorStore row takes its spec from a png or hdf5 row;
//                                    FERRY_BENCH_VOLUME_S3=0 leaves out the S3 rows, no S3 server)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeHdf5 } from '../src/testing/hdf5.ts';
import { adminClient, createBucket, dropBucket, s3TestServer } from '../src/testing/s3.ts';
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
const ROWS = process.env.FERRY_BENCH_VOLUME_ROWS?.split(',');
const wants = (group: 'png' | 'hdf5' | 'more') => !ROWS || ROWS.includes(group);
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
 * The same sections as HDF5 files written by h5py, dataset `img`, with a registry placing each at
 * 0,0 (7-field lines): uncompressed, or gzip (h5py's level 4) in 256 x 256 chunks. Made once and kept.
 */
async function hdf5Stack(kind: 'plain' | 'gzip'): Promise<string> {
  const dir = join(tmpdir(), `ferry-bench-volume-h5-${kind}-${X}x${Y}x${Z}`);
  const registry = join(dir, 'registry.txt');
  if (existsSync(join(dir, 'complete'))) return registry;
  mkdirSync(dir, { recursive: true });
  const name = (z: number) => `1,${z + 1}_prealigned`;
  // A few sections per run of h5py, so that the samples of the whole stack are never in memory at once.
  for (let z0 = 0; z0 < Z; z0 += 16) {
    const zs = Array.from({ length: Math.min(16, Z - z0) }, (_, i) => z0 + i);
    await writeHdf5(zs.map((z) => ({ out: join(dir, `${name(z)}.h5`), samples: emSection(z, X, Y), shape: [Y, X], ...(kind === 'gzip' ? { chunks: [256, 256], compression: 'gzip' as const } : {}) })));
  }
  writeFileSync(registry, Array.from({ length: Z }, (_, z) => `${name(z)} 0 0 0 ${X} ${Y} 1\n`).join(''));
  writeFileSync(join(dir, 'complete'), '');
  return registry;
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

// The peer for HDF5 sections: h5py (native libhdf5) reads each section, TensorStore writes as above.
// Every section of the bench's registry lies at 0,0, so the stack is the sections one after another.
const H5_TS_SCRIPT = `
import json, os, sys
import h5py
import numpy as np
import tensorstore as ts
registry, kvstore, scale, threads = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
names = [line.split()[0] for line in open(registry) if line.strip()]
secs = [os.path.join(os.path.dirname(registry), n + ".h5") for n in names]
ctx = ts.Context({"data_copy_concurrency": {"limit": threads}})
vol = ts.open({"driver": "neuroglancer_precomputed", "kvstore": kvstore, "create": True, "delete_existing": True,
               "multiscale_metadata": {"type": "image", "data_type": "uint8", "num_channels": 1}, "scale_metadata": scale}, context=ctx).result()
with ts.Transaction() as txn:
    for z0 in range(0, len(secs), 64):
        planes = []
        for f in secs[z0:z0 + 64]:
            with h5py.File(f, "r") as h:
                planes.append(h["img"][:].T)
        slab = np.stack(planes, axis=-1)
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
  const h5 = wants('hdf5') ? { plain: await hdf5Stack('plain'), gzip: await hdf5Stack('gzip') } : undefined;
  const ferryEnv = { ...env, UV_THREADPOOL_SIZE: String(THREADS) };
  const s3Flags = ['--endpoint-url', endpoint!, '--path-style', '--region', 'us-east-1'];
  let n = 0;
  const ferryIngest = (label: string, dst: string, flags: string[], src = sections): Result => {
    const ledger = join(root, `ledger-${n++}.sqlite`);
    const plan = [...ferry('volume', 'plan', src, dst, '--voxel-size', '4,4,40', '--chunk', '64,64,64', '--nonzero-threshold', '0', '--ledger', ledger, ...flags)];
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
  // A row of a group that did not run counts as not done ('n/a' in the ratios).
  const by = (prefix: string): Result => results.find((r) => r.tool.startsWith(prefix)) ?? { tool: prefix, wall: NaN, cpu: NaN, rssMiB: NaN, ok: false };
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
    return { tool, wall: z.seconds, cpu: NaN, rssMiB: NaN, ok: z.ok };
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
  // Bytes of the PNG rows' sharded folders, Ferry's and TensorStore's: the same voxels and spec.
  const outputBytes = new Map<'ferry' | 'tensorstore', number>();
  const measured = (who: 'ferry' | 'tensorstore', dir: string, run: () => Result) => (): Result => {
    const r = run();
    if (r.ok) outputBytes.set(who, folderBytes(dir));
    return r;
  };
  for (let round = 0; round < 2; round++) {
    // The first Ferry run gives the sharding spec every TensorStore run is given.
    const ferrySharded = (label: string, name: string, src?: string) => () => {
      const r = ferryIngest(label, folder(name), shardedFlags, src);
      spec ??= shardedScale(folder(name));
      return r;
    };
    const tsFolder = { driver: 'file', path: `${folder('ts-sharded')}/` };
    const runs: (() => Result)[] = [
      ...(wants('png')
        ? [
            () => zlibRow('defaults'),
            () => zlibRow('ferry'),
            measured('ferry', folder(`ferry-sharded-${round}`), ferrySharded('ferry -> folder, sharded gzip', `ferry-sharded-${round}`)),
            measured('tensorstore', folder('ts-sharded'), () => timed('tensorstore -> folder, sharded gzip (same spec)', python(TS_PYTHON, TS_SCRIPT, [sections, JSON.stringify(tsFolder), JSON.stringify(spec), String(THREADS)]))),
            () => timed('zarr-python -> folder, 64^3 gzip', python(ZARR_PYTHON, ZARR_SCRIPT, [sections, folder(`zarr-${round}`), String(GZIP_LEVEL)])),
          ]
        : []),
      ...(h5
        ? (['plain', 'gzip'] as const).flatMap((kind) => {
            const what = kind === 'plain' ? 'HDF5 uncompressed' : 'HDF5 gzip-chunked';
            return [
              ferrySharded(`ferry (${what}) -> folder, sharded gzip`, `ferry-h5-${kind}-${round}`, h5[kind]),
              () => timed(`h5py + tensorstore (${what}) -> folder, sharded gzip (same spec)`, python(TS_PYTHON, H5_TS_SCRIPT, [h5[kind], JSON.stringify(tsFolder), JSON.stringify(spec), String(THREADS)])),
            ];
          })
        : []),
    ];
    for (const run of runs) {
      const r = run();
      log(r);
      const best = fastest.get(r.tool);
      if (!best || (r.ok && (!best.ok || r.wall < best.wall))) fastest.set(r.tool, r);
    }
    // Each round's output goes before the next: the disk holds one copy of each at a time.
    for (const name of [`ferry-sharded-${round}`, `zarr-${round}`, `ferry-h5-plain-${round}`, `ferry-h5-gzip-${round}`]) rmSync(folder(name), { recursive: true, force: true });
  }
  results.push(...[...fastest.values()].map((r) => ({ ...r, tool: `${r.tool} (faster of 2)` })));
  const ferryDeflateSeconds = by("ferry's gzip alone").wall;
  const zlibDefaultSeconds = by("node zlib alone, zlib's default").wall;
  if (wants('more')) {
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
  }
  rmSync(root, { recursive: true, force: true });

  console.log(`\n${X} x ${Y} x ${Z} uint8 (${MIB.toFixed(0)} MiB) from PNG sections (and the same as HDF5 sections), 64^3 chunks, gzip: Ferry ${ferryDeflate}, the others zlib -${GZIP_LEVEL}; ${THREADS} CPU threads\n`);
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
cost of sharding on S3 (sharded/unsharded):  ${s3s.ok && s3p.ok ? (s3s.wall / s3p.wall).toFixed(2) : 'n/a'}x time
ferry vs h5py + tensorstore, HDF5 plain:     ${ratio(by('ferry (HDF5 uncompressed)'), by('h5py + tensorstore (HDF5 uncompressed)'))}x (target > 1)
ferry vs h5py + tensorstore, HDF5 gzip:      ${ratio(by('ferry (HDF5 gzip-chunked)'), by('h5py + tensorstore (HDF5 gzip-chunked)'))}x (target > 1)
ferry from HDF5 plain / from PNG sections:   ${more(by('ferry (HDF5 uncompressed)'), fs)}% time
ferry from HDF5 gzip / from PNG sections:    ${more(by('ferry (HDF5 gzip-chunked)'), fs)}% time`);
}

if (process.argv[2] === 'zlib-child') await zlibChild();
else await main();
