// InLens conversion throughput, Ferry vs the NumPy port of the same rule, in the same run.
// Tiles: 6,250 x 6,250, two channels, big-endian int16 (a real FlyEM tile size), noise around a
// smooth signal with saturated pixels. Per core = megapixels per CPU-second of the whole process
// (sharp runs on one libvips thread here), so neither side gains from a second core.
//
//   node bench/dat-to-png.ts [--tiles 2] [--repeats 3] [--size 6250]
//
// Needs Debian python3-numpy (and python3-pil for the PNG phase); runs /usr/bin/python3.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { INLENS_PNG_COMPRESSION, convertDatToInLensPng, encodeGreyPng } from '../src/formats/fibsem/convert.ts';
import { inLensFromCodes } from '../src/formats/fibsem/inlens.ts';
import { readDatChannelCodes } from '../src/formats/fibsem/pixels.ts';
import { openDat } from '../src/formats/fibsem/read.ts';
import { seededRandom, syntheticDat } from '../src/formats/fibsem/synthetic.ts';

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
}

sharp.concurrency(1);
const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-dat-'));
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
    const dat = await openDat(f);
    try {
      const hist = new Uint32Array(65536);
      images.set(f, inLensFromCodes(await readDatChannelCodes(dat, 0, hist), hist).pixels);
    } finally {
      await dat.handle.close();
    }
  });
  const ferryPng = await bestOf(REPEATS, files, async (f) => {
    await writeFile(join(dir, 'plain.png'), await encodeGreyPng(images.get(f)!, SIZE, SIZE));
  });
  const ferryFull = await bestOf(REPEATS, files, async (f) => {
    await convertDatToInLensPng(f, join(dir, 'ferry', 'InLens'), join(dir, 'ferry', 'logs'));
  });

  const numpyOut = join(dir, 'numpy');
  await mkdir(numpyOut, { recursive: true });
  const py = JSON.parse(
    (await promisify(execFile)(PYTHON, [NUMPY_SCRIPT, numpyOut, String(REPEATS), String(INLENS_PNG_COMPRESSION), ...files], { maxBuffer: 1 << 20 })).stdout,
  ) as { numpy: string; pil: boolean; rule: Timing; png: Timing | null };

  const mp = (SIZE * SIZE) / 1e6;
  const rate = (t: Timing) => [(mp / t.wall).toFixed(1), (mp / t.cpu).toFixed(1)];
  const rows: string[][] = [['phase', 'Ferry MP/s', 'Ferry MP/cpu-s', 'NumPy MP/s', 'NumPy MP/cpu-s', 'per-core ratio']];
  rows.push(['read + rule', ...rate(ferryRule), ...rate(py.rule), (py.rule.cpu / ferryRule.cpu).toFixed(2) + 'x']);
  if (py.png) {
    const fr = { wall: ferryRule.wall + ferryPng.wall, cpu: ferryRule.cpu + ferryPng.cpu };
    const pr = { wall: py.rule.wall + py.png.wall, cpu: py.rule.cpu + py.png.cpu };
    rows.push([`png encode (zlib ${INLENS_PNG_COMPRESSION})`, ...rate(ferryPng), ...rate(py.png), (py.png.cpu / ferryPng.cpu).toFixed(2) + 'x']);
    rows.push(['read + rule + png', ...rate(fr), ...rate(pr), (pr.cpu / fr.cpu).toFixed(2) + 'x']);
  }
  rows.push(['convertDatToInLensPng (fsync)', ...rate(ferryFull), '', '', '']);
  console.log(`InLens conversion, ${TILES} tile(s) of ${SIZE} x ${SIZE} x 2 int16, best of ${REPEATS}; NumPy ${py.numpy}${py.pil ? ' + Pillow' : ' (no Pillow: rule only)'}`);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  if (py.png) console.log(`pixels differing between Ferry and NumPy PNGs: ${await comparePngs(files, join(dir, 'ferry', 'InLens'), numpyOut)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}

// Best time per file over the repeats: the least disturbed by other work on the machine.
async function bestOf(repeats: number, files: string[], fn: (f: string) => Promise<void>): Promise<Timing> {
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < repeats; r++) {
    for (const f of files) {
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      await fn(f);
      const c = process.cpuUsage(c0);
      wall = Math.min(wall, (performance.now() - w0) / 1000);
      cpu = Math.min(cpu, (c.user + c.system) / 1e6);
    }
  }
  return { wall, cpu };
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
