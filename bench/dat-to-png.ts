// InLens conversion throughput, Ferry vs the NumPy port of the same rule, in the same run.
// Tiles: 6,250 x 6,250, two channels, big-endian int16 (a real FlyEM tile size), noise around a
// smooth signal with saturated pixels. Per core = megapixels per CPU-second of the whole process
// (sharp runs on one libvips thread here, Ferry's encoder is single-threaded), so neither side
// gains from a second core.
//
// PNG rows compare encoders on the same pixels, with the bytes each writes per tile:
//   - Ferry's encoder (src/codecs/grey-png.ts, Node's zlib with INLENS_PNG_DEFLATE) vs Pillow at
//     the same zlib level with Pillow's own choices (default strategy, adaptive filters), the peer the
//     target is set against;
//   - the same vs Pillow given Ferry's zlib strategy too, so the gain from the strategy alone shows;
//   - sharp/libvips (Ferry's encoder before, same level, no adaptive filtering), to show why the
//     hand-written encoder replaced it.
//
//   node bench/dat-to-png.ts [--tiles 2] [--repeats 3] [--size 6250]
//
// Needs Debian python3-numpy (and python3-pil for the PNG phases); runs /usr/bin/python3.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { encodeGreyPng } from '../src/codecs/grey-png.ts';
import { errorMessage } from '../src/errors.ts';
import { INLENS_PNG_DEFLATE, convertDatToInLensPng } from '../src/formats/fibsem/convert.ts';
import { inLensFromCodes } from '../src/formats/fibsem/inlens.ts';
import { readDatChannelCodes } from '../src/formats/fibsem/pixels.ts';
import { openDat } from '../src/formats/fibsem/read.ts';
import { syntheticDat } from '../src/testing/fibsem-dat.ts';
import { FolderStores } from '../src/storage/location.ts';
import { seededRandom } from '../src/testing/random.ts';

const { values } = parseArgs({
  options: { tiles: { type: 'string', default: '2' }, repeats: { type: 'string', default: '3' }, size: { type: 'string', default: '6250' } },
});
const TILES = Number(values.tiles);
const REPEATS = Number(values.repeats);
const SIZE = Number(values.size);
const PYTHON = '/usr/bin/python3';
const NUMPY_SCRIPT = fileURLToPath(new URL('./dat_to_png_numpy.py', import.meta.url));

interface Timing {
  wall: number;
  cpu: number;
  /** PNG bytes per tile (mean), for PNG phases. */
  bytes?: number;
}

interface PeerResult {
  numpy: string;
  pil: string | null;
  zlib: string;
  rule: Timing;
  png: Timing | null;
  png_strategy: Timing | null;
}

const LEVEL = INLENS_PNG_DEFLATE.level;
const STRATEGY = INLENS_PNG_DEFLATE.strategy;
const STRATEGY_NAMES = ['Z_DEFAULT_STRATEGY', 'Z_FILTERED', 'Z_HUFFMAN_ONLY', 'Z_RLE', 'Z_FIXED'];
const strategyName = STRATEGY_NAMES[STRATEGY] ?? `strategy ${STRATEGY}`;

sharp.concurrency(1);
const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-dat-'));
const stores = new FolderStores();
try {
  const files: string[] = [];
  for (let t = 0; t < TILES; t++) {
    const rnd = seededRandom(t + 1);
    const dat = syntheticDat({
      width: SIZE,
      height: SIZE,
      sample: (i, c) => {
        const r = rnd();
        if (r < 0.0005) return 32767;
        if (r < 0.001) return -32768;
        const x = i % SIZE;
        const y = (i / SIZE) | 0;
        return Math.round(2000 + 1500 * Math.sin(x / 150) * Math.cos(y / 90) + (r + rnd() + rnd() - 1.5) * 1200) - c * 4000;
      },
    });
    const path = join(dir, `Merlin-6285_21-08-23_0841${String(t).padStart(2, '0')}_0-0-0.dat`);
    await writeFile(path, dat);
    files.push(path);
  }

  const images = new Map<string, Uint8Array>();
  const ferryRule = await bestOf(REPEATS, files, async (f) => {
    const dat = await openDat(await stores.file(f));
    try {
      const hist = new Uint32Array(65536);
      images.set(f, inLensFromCodes(await readDatChannelCodes(dat, 0, hist), hist).pixels);
    } finally {
      await dat.close();
    }
  });
  const ferryPng = await bestOf(REPEATS, files, async (f) => {
    const png = encodeGreyPng(images.get(f)!, SIZE, SIZE, INLENS_PNG_DEFLATE);
    await writeFile(join(dir, 'ferry.png'), png);
    return png.length;
  });
  const sharpPng = await bestOf(REPEATS, files, async (f) => {
    const png = await sharp(images.get(f)!, { raw: { width: SIZE, height: SIZE, channels: 1 } })
      .toColourspace('b-w')
      .png({ compressionLevel: LEVEL, adaptiveFiltering: false })
      .toBuffer();
    await writeFile(join(dir, 'sharp.png'), png);
    return png.length;
  });
  const ferryFull = await bestOf(REPEATS, files, async (f) => {
    const r = await convertDatToInLensPng(await stores.file(f), await stores.folder(join(dir, 'ferry', 'InLens')), await stores.folder(join(dir, 'ferry', 'logs')));
    return (await stat(r.png)).size;
  });

  const numpyOut = join(dir, 'numpy');
  await mkdir(numpyOut, { recursive: true });
  // A peer that cannot run (no NumPy, a Python error) leaves its columns empty; Ferry's rows still print.
  let py: PeerResult | undefined;
  let peerError = '';
  try {
    py = JSON.parse(
      (await promisify(execFile)(PYTHON, [NUMPY_SCRIPT, numpyOut, String(REPEATS), String(LEVEL), String(STRATEGY), ...files], { maxBuffer: 1 << 20 })).stdout,
    ) as PeerResult;
  } catch (e) {
    peerError = errorMessage(e).split('\n').filter(Boolean).slice(-2).join(' / ');
  }

  const mp = (SIZE * SIZE) / 1e6;
  const rate = (t: Timing) => [(mp / t.wall).toFixed(1), (mp / t.cpu).toFixed(1)];
  const sum = (a: Timing, b: Timing): Timing => ({ wall: a.wall + b.wall, cpu: a.cpu + b.cpu, bytes: b.bytes });
  const mb = (t: Timing | null) => (t?.bytes === undefined ? '' : (t.bytes / 1e6).toFixed(2));
  const row = (name: string, f: Timing, p: Timing | null) => [
    name,
    ...rate(f),
    ...(p ? rate(p) : ['', '']),
    p ? (p.cpu / f.cpu).toFixed(2) + 'x' : '',
    mb(f),
    mb(p),
    f.bytes !== undefined && p?.bytes !== undefined ? (f.bytes / p.bytes).toFixed(3) : '',
  ];
  const rows: string[][] = [['phase (Ferry vs NumPy/Pillow)', 'Ferry MP/s', 'Ferry MP/cpu-s', 'peer MP/s', 'peer MP/cpu-s', 'per-core ratio', 'Ferry MB/tile', 'peer MB/tile', 'size ratio']];
  rows.push(row('read + rule', ferryRule, py?.rule ?? null));
  if (!py?.png) rows.push(row(`png: Ferry zlib ${LEVEL}`, ferryPng, null), row(`png: sharp zlib ${LEVEL}`, sharpPng, null));
  if (py?.png && py.png_strategy) {
    rows.push(row(`png: Ferry vs Pillow zlib ${LEVEL}`, ferryPng, py.png));
    rows.push(row(`png: Ferry vs Pillow zlib ${LEVEL} ${strategyName}`, ferryPng, py.png_strategy));
    rows.push(row(`png: sharp zlib ${LEVEL} vs Pillow zlib ${LEVEL}`, sharpPng, py.png));
    rows.push(row(`read + rule + png (Pillow zlib ${LEVEL})`, sum(ferryRule, ferryPng), sum(py.rule, py.png)));
    rows.push(row(`read + rule + png (Pillow ${strategyName})`, sum(ferryRule, ferryPng), sum(py.rule, py.png_strategy)));
    rows.push(row(`read + rule + png, sharp encoder`, sum(ferryRule, sharpPng), sum(py.rule, py.png)));
  }
  rows.push(row('convertDatToInLensPng (fsync)', ferryFull, null));
  console.log(
    `InLens conversion, ${TILES} tile(s) of ${SIZE} x ${SIZE} x 2 int16, best of ${REPEATS}; ` +
      `Ferry: Node ${process.versions.node} zlib ${process.versions.zlib} (${strategyName}, level ${LEVEL}, Average filter), sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}); ` +
      (py ? `peer: NumPy ${py.numpy}${py.pil ? ` + Pillow ${py.pil} (zlib ${py.zlib})` : ' (no Pillow: rule only)'}` : `peer: FAILED (${peerError})`),
  );
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  console.log('(per-core ratio = peer CPU-s / Ferry CPU-s; size ratio = Ferry bytes / peer bytes)');
  if (py?.png) console.log(`pixels differing between Ferry and NumPy PNGs: ${await comparePngs(files, join(dir, 'ferry', 'InLens'), numpyOut)}`);
} finally {
  await stores.close();
  await rm(dir, { recursive: true, force: true });
}

// Best time per file over the repeats: the least disturbed by other work on the machine. `fn` may
// return the PNG bytes it wrote, averaged over the files.
async function bestOf(repeats: number, files: string[], fn: (f: string) => Promise<number | void>): Promise<Timing> {
  let wall = Infinity;
  let cpu = Infinity;
  const bytes = new Map<string, number>();
  for (let r = 0; r < repeats; r++) {
    for (const f of files) {
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      const n = await fn(f);
      const c = process.cpuUsage(c0);
      wall = Math.min(wall, (performance.now() - w0) / 1000);
      cpu = Math.min(cpu, (c.user + c.system) / 1e6);
      if (typeof n === 'number') bytes.set(f, n);
    }
  }
  return { wall, cpu, bytes: bytes.size ? [...bytes.values()].reduce((a, b) => a + b, 0) / bytes.size : undefined };
}

async function comparePngs(files: string[], ferryDir: string, numpyDir: string): Promise<number> {
  let diff = 0;
  for (const f of files) {
    const name = f.slice(f.lastIndexOf('/') + 1, -'.dat'.length) + '-InLens.png';
    const a = await sharp(join(ferryDir, name)).extractChannel(0).raw().toBuffer();
    const b = await sharp(join(numpyDir, name)).extractChannel(0).raw().toBuffer();
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
  }
  return diff;
}
