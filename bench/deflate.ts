// Which deflate should write Ferry's gzip chunks? Every candidate this project can install from the
// npm registry or build from Debian's packages, on the same 64^3 uint8 EM-like chunks (the top of
// bench/volume.ts's stack), at level 6 unless said: CPU throughput (MB/s per core), wall throughput
// with every core busy where the candidate can use them, compressed size against zlib level 6, and
// whether Node's zlib decompresses every output to the input bytes.
//
//   node bench/deflate.ts [--chunks 256] [--repeats 3]
//
// Two shorter tables repeat the main candidates on quieter sections (noise of 5 grey levels
// instead of 25: on volume.ts's sections deflate finds few repeats, so every level gives about the
// same size, and the level that keeps within 5% of zlib's size shows only on data with more) and on
// segmentation labels (uint32 and uint64 cells), where faster levels lose the most. They are what
// src/codecs/gzip.ts's LIBDEFLATE_IMAGE_LEVEL and LIBDEFLATE_SEGMENTATION_LEVEL were chosen by.
//
// The libdeflate addon rows need the addon built (npm's postinstall does it where Debian's
// libdeflate-dev is installed; or `bash native/libdeflate/build.sh`); without it they say so.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { deflateRawSync, gunzipSync, gzip as zlibGzip, gzipSync, inflateRawSync } from 'node:zlib';
import * as fflate from 'fflate';
import * as pako from 'pako';
import * as libdeflateWasm from 'libdeflate';
import * as foras from '@hazae41/foras';
import { loadLibdeflate } from '../src/codecs/deflate-native.ts';
import type { Libdeflate } from '../src/codecs/deflate-native.ts';
import { CHUNK, emChunks, labelChunk } from '../src/testing/em-data.ts';

const THREADS = availableParallelism();
const LEVEL = 6;

type Compress = (data: Uint8Array) => Uint8Array;
type CompressAsync = (data: Uint8Array) => Promise<Uint8Array>;
type Format = 'gzip' | 'raw';

/** The addon's calls with an output buffer of their own, as the rows of other candidates return one. */
function addonCalls(addon: Libdeflate) {
  return {
    gzipSync: (d: Uint8Array, level: number) => {
      const out = Buffer.allocUnsafe(addon.gzipBound(d.length));
      return out.subarray(0, addon.gzipSync(d, level, out));
    },
    gzip: async (d: Uint8Array, level: number) => {
      const out = Buffer.allocUnsafe(addon.gzipBound(d.length));
      return out.subarray(0, await addon.gzip(d, level, out));
    },
  };
}

interface Row {
  name: string;
  how: string;
  format: Format;
  /** One pass over every chunk; returns the outputs in chunk order. */
  run(chunks: Uint8Array[]): Promise<Uint8Array[]>;
  close?(): Promise<void>;
}

interface Measured {
  row: Row;
  wall: number[];
  cpu: number[];
  bytes: number;
  ok: boolean;
}

const sync = (name: string, format: Format, f: Compress): Row => ({ name, how: '1 thread', format, run: async (chunks) => chunks.map(f) });

/** All chunks in flight at once; `f` must spread them over the cores itself. */
const pooled = (name: string, how: string, format: Format, f: CompressAsync): Row => ({ name, how, format, run: (chunks) => Promise.all(chunks.map(f)) });

/** libdeflate's WASM build on one worker thread per core, chunks handed round and transferred back. */
function wasmWorkers(): Row {
  const workers = Array.from({ length: THREADS }, () => new Worker(new URL(import.meta.url)));
  const pending = new Map<number, (out: Uint8Array) => void>();
  for (const w of workers) w.on('message', ({ id, out }: { id: number; out: Uint8Array }) => pending.get(id)!(out));
  let next = 0;
  return {
    name: 'libdeflate (npm, WASM)',
    how: `${THREADS} worker threads`,
    format: 'gzip',
    run: (chunks) =>
      Promise.all(
        chunks.map(
          (c) =>
            new Promise<Uint8Array>((resolve) => {
              const id = next++;
              pending.set(id, (out) => {
                pending.delete(id);
                resolve(out);
              });
              // A copy goes to the worker, as Ferry would hand over a chunk it no longer needs.
              const data = c.slice();
              workers[id % workers.length].postMessage({ id, data, level: LEVEL }, [data.buffer]);
            }),
        ),
      ),
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

function roundTrips(format: Format, chunks: Uint8Array[], outs: Uint8Array[]): boolean {
  return chunks.every((c, i) => Buffer.from(c).equals(format === 'gzip' ? gunzipSync(outs[i]) : inflateRawSync(outs[i])));
}

async function measure(rows: Row[], chunks: Uint8Array[], repeats: number): Promise<Measured[]> {
  const results = rows.map((row) => ({ row, wall: [] as number[], cpu: [] as number[], bytes: 0, ok: true }));
  // A first, unmeasured pass on a few chunks: compiles the JS and WASM, starts the threads.
  for (const m of results) await m.row.run(chunks.slice(0, THREADS * 2));
  // Round-robin, so that a busy spell on this shared machine slows every candidate alike.
  for (let r = 0; r < repeats; r++) {
    for (const m of results) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const outs = await m.row.run(chunks);
      const wall = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      m.wall.push(wall);
      m.cpu.push((c.user + c.system) / 1e6);
      if (r === 0) {
        m.bytes = outs.reduce((s, o) => s + o.length, 0);
        m.ok = roundTrips(m.row.format, chunks, outs);
      }
    }
  }
  return results;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { chunks: { type: 'string', default: '256' }, repeats: { type: 'string', default: '3' } } });
  const count = Number(values.chunks);
  const repeats = Number(values.repeats);
  const native = loadLibdeflate();
  const addon = native && addonCalls(native);
  await foras.initBundledOnce();
  // wasm-flate is CommonJS only; flate2's default level is 6.
  const wasmFlate = createRequire(import.meta.url)('wasm-flate') as { gzip_encode_raw(d: Uint8Array): Uint8Array };
  const { GZIP_ENGINE, defaultGzipLevel, gzipChunk, gzipEngine } = await import('../src/codecs/gzip.ts');
  const zlibRow = sync('zlib (Node)', 'gzip', (d) => gzipSync(d, { level: LEVEL }));
  const pool = `libuv pool, ${THREADS} threads`;
  const zlibKept = gzipEngine(undefined);
  const ferryZlibRow = pooled("zlib (Node) as Ferry calls it (gzipChunk's zlib engine, the fall-back)", pool, 'gzip', (d) => zlibKept.gzipChunk(d, LEVEL));
  const ferryRow = (kind: 'image' | 'segmentation') =>
    pooled(`Ferry's gzipChunk as built here (${GZIP_ENGINE} level ${defaultGzipLevel(kind)}, its ${kind} default)`, pool, 'gzip', (d) => gzipChunk(d, defaultGzipLevel(kind)));
  const workers = wasmWorkers();
  const addonLevels = (levels: number[]) =>
    addon ? levels.map((level) => sync(`libdeflate (Debian, Node-API addon)${level === LEVEL ? '' : ` level ${level}`}`, 'gzip', (d) => addon.gzipSync(d, level))) : [];
  const addonPool = addon ? [pooled('libdeflate (Debian, Node-API addon)', pool, 'gzip', (d) => addon.gzip(d, LEVEL))] : [];

  const all: Row[] = [
    zlibRow,
    sync('zlib (Node), raw deflate', 'raw', (d) => deflateRawSync(d, { level: LEVEL })),
    sync('libdeflate (npm, WASM)', 'gzip', (d) => libdeflateWasm.gzip(d, LEVEL)),
    sync('fflate (npm, JS)', 'gzip', (d) => fflate.gzipSync(d, { level: LEVEL })),
    sync('pako (npm, JS)', 'gzip', (d) => pako.gzip(d, { level: LEVEL })),
    sync('foras (npm, Rust flate2 WASM)', 'gzip', (d) => {
      const input = new foras.Memory(d);
      try {
        return foras.gzip(input, LEVEL).copyAndDispose();
      } finally {
        input.free();
      }
    }),
    sync('wasm-flate (npm, Rust flate2 WASM)', 'gzip', (d) => wasmFlate.gzip_encode_raw(d)),
    pooled('zlib (Node)', pool, 'gzip', (d) => new Promise((resolve, reject) => zlibGzip(d, { level: LEVEL }, (e, out) => (e ? reject(e) : resolve(out))))),
    ferryZlibRow,
    workers,
    ...addonLevels([LEVEL]),
    ...addonPool,
    ferryRow('image'),
    // Lower levels: the fastest whose output stays within 5% of zlib level 6.
    ...addonLevels([1, 2, 3, 4, 5]),
    ...[1, 3].map((level) => sync(`zlib (Node) level ${level}`, 'gzip', (d) => gzipSync(d, { level }))),
    sync('libdeflate (npm, WASM) level 1', 'gzip', (d) => libdeflateWasm.gzip(d, 1)),
  ];
  await table(`EM-like sections as bench/volume.ts makes them (noise of 25 grey levels)`, emChunks(count, 25), all, repeats);
  const main = [zlibRow, ferryZlibRow, workers, ...addonLevels([1, 2, 3, 4, LEVEL]), ...addonPool, ferryRow('image'), sync('libdeflate (npm, WASM) level 1', 'gzip', (d) => libdeflateWasm.gzip(d, 1))];
  await table('quieter sections (noise of 5 grey levels)', emChunks(count, 5), main, repeats);
  const labels = [zlibRow, ferryZlibRow, ...addonLevels([1, 4, 5, LEVEL, 7, 8]), ferryRow('segmentation')];
  const labelCount = Math.max(1, Math.ceil(count / 16));
  for (const bytes of [4, 8] as const) {
    await table(`segmentation labels, uint${bytes * 8} (40 cells a chunk)`, Array.from({ length: labelCount }, (_, i) => labelChunk(i + 1, bytes)), labels, repeats);
  }
  await workers.close!();
  if (!addon) console.log('\n(libdeflate addon rows missing: run `bash native/libdeflate/build.sh` (needs libdeflate-dev) and run again)');
  console.log('\n(shared, noisy machine: compare rows of one run, not runs)');
}

async function table(title: string, chunks: Uint8Array[], rows: Row[], repeats: number): Promise<void> {
  const mb = chunks.reduce((n, c) => n + c.length, 0) / 1e6;
  const results = await measure(rows, chunks, repeats);
  const zlibBytes = results[0].bytes;
  const zlibCpuRate = mb / median(results[0].cpu);
  console.log(`\n### ${title}\n`);
  console.log(`${chunks.length} chunks of ${CHUNK}^3 voxels (${mb.toFixed(1)} MB), level ${LEVEL} unless said; median of ${repeats} passes; ${THREADS} cores`);
  console.log('MB/s per core = input MB / CPU seconds of the whole process; wall = input MB / elapsed seconds\n');
  console.log('| candidate | format | threads | MB/s per core | x zlib | MB/s wall | compressed MB | size vs zlib -6 | Node zlib reads it back |');
  console.log('|---|---|---|---:|---:|---:|---:|---:|---|');
  for (const m of results) {
    const perCore = mb / median(m.cpu);
    const size = `${((m.bytes / zlibBytes - 1) * 100).toFixed(1).replace(/^(?!-)/, '+')}%`;
    console.log(
      `| ${m.row.name} | ${m.row.format} | ${m.row.how} | ${perCore.toFixed(1)} | ${(perCore / zlibCpuRate).toFixed(2)} | ${(mb / median(m.wall)).toFixed(1)} | ${(m.bytes / 1e6).toFixed(2)} | ${size} | ${m.ok ? 'yes, every chunk' : 'NO'} |`,
    );
  }
}

if (!isMainThread) {
  // A worker of the "libdeflate WASM on worker threads" row: compresses what it is sent.
  parentPort!.on('message', ({ id, data, level }: { id: number; data: Uint8Array; level: number }) => {
    const out = libdeflateWasm.gzip(data, level);
    parentPort!.postMessage({ id, out }, [out.buffer as ArrayBuffer]);
  });
} else {
  await main();
}
