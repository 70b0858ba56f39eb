import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { seededRandom } from '../testing/random.ts';
import { encodeGreyPng, encodeGreyPngRows } from './grey-png.ts';

const RLE = { level: 3, strategy: constants.Z_RLE };

// CRC-32 written out from the PNG specification (Annex D), independent of the encoder's zlib.crc32.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// A PNG decoder for 8-bit greyscale written from the specification: checks the chunk layout and
// every CRC, and undoes any of the five row filters, so the test does not trust one filter choice.
function decodeGrey(png: Buffer): { width: number; height: number; pixels: Uint8Array; chunks: string[] } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | undefined;
  let at = 8;
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    assert.equal(png.readUInt32BE(at + 8 + len), crc32(png.subarray(at + 4, at + 8 + len)), `CRC of ${type}`);
    chunks.push(type);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  assert.equal(at, png.length, 'no bytes after the last chunk');
  assert.ok(ihdr);
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  assert.deepEqual([...ihdr.subarray(8)], [8, 0, 0, 0, 0], 'bit depth 8, greyscale, deflate, standard filters, no interlace');
  const raw = inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, (width + 1) * height);
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (width + 1)];
    for (let x = 0; x < width; x++) {
      const a = x > 0 ? pixels[y * width + x - 1] : 0;
      const b = y > 0 ? pixels[(y - 1) * width + x] : 0;
      const c = x > 0 && y > 0 ? pixels[(y - 1) * width + x - 1] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter];
      assert.notEqual(predictor, undefined, `row ${y}: filter type ${filter}`);
      pixels[y * width + x] = (raw[y * (width + 1) + 1 + x] + predictor) & 0xff;
    }
  }
  return { width, height, pixels, chunks };
}

function noisyImage(width: number, height: number, seed: number): Uint8Array {
  const rnd = seededRandom(seed);
  return Uint8Array.from({ length: width * height }, (_, i) => {
    const x = i % width;
    const y = Math.floor(i / width);
    return Math.max(0, Math.min(255, Math.round(128 + 60 * Math.sin(x / 9) * Math.cos(y / 7) + (rnd() - 0.5) * 80)));
  });
}

test('PNGs of several shapes decode to their pixels, by the specification and by sharp', async () => {
  const cases: [number, number, Uint8Array][] = [
    [1, 1, Uint8Array.of(200)],
    [3, 2, Uint8Array.of(0, 255, 1, 254, 128, 127)], // wrap-around in the filter arithmetic
    [257, 3, noisyImage(257, 3, 1)],
    [31, 97, noisyImage(31, 97, 2)],
    [64, 64, new Uint8Array(64 * 64)], // one value everywhere: runs
  ];
  for (const [width, height, pixels] of cases) {
    const png = encodeGreyPng(pixels, width, height, RLE);
    const spec = decodeGrey(png);
    assert.deepEqual([spec.width, spec.height], [width, height]);
    assert.deepEqual(spec.pixels, pixels, `${width} x ${height} by the specification`);
    assert.deepEqual(spec.chunks, ['IHDR', 'IDAT', 'IEND']);
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels, meta.depth], ['png', width, height, 1, 'uchar']);
    const decoded = await sharp(png).extractChannel(0).raw().toBuffer();
    assert.deepEqual(new Uint8Array(decoded), pixels, `${width} x ${height} by sharp`);
  }
});

test('a stream longer than one IDAT chunk is split over several, and still decodes', async () => {
  // Noise does not compress, so 1,500 x 1,000 pixels give more than the 1 MiB of one IDAT.
  const width = 1500;
  const height = 1000;
  const rnd = seededRandom(3);
  const pixels = Uint8Array.from({ length: width * height }, () => Math.floor(rnd() * 256));
  const png = encodeGreyPng(pixels, width, height, RLE);
  const spec = decodeGrey(png);
  assert.deepEqual(spec.chunks, ['IHDR', 'IDAT', 'IDAT', 'IEND']);
  assert.deepEqual(spec.pixels, pixels);
  assert.deepEqual(new Uint8Array(await sharp(png).extractChannel(0).raw().toBuffer()), pixels);
});

test('rows come from the callback in order, and blank images compress to almost nothing', () => {
  const seen: number[] = [];
  const png = encodeGreyPngRows(5000, 400, (y, row) => {
    seen.push(y);
    row.fill(y === 0 ? 0 : 255);
  }, RLE);
  assert.deepEqual(seen, Array.from({ length: 400 }, (_, y) => y));
  const { pixels } = decodeGrey(png);
  assert.equal(pixels.subarray(0, 5000).every((v) => v === 0), true);
  assert.equal(pixels.subarray(5000).every((v) => v === 255), true);
  // 2 MB of pixels: the run-length strategy must still find the runs.
  assert.ok(png.length < 20_000, `${png.length} bytes`);
});

test('a size that is no image, or pixels that do not fill it, is refused', () => {
  assert.throws(() => encodeGreyPng(new Uint8Array(0), 0, 0, RLE), RangeError);
  assert.throws(() => encodeGreyPng(new Uint8Array(5), 2, 3, RLE), RangeError);
});

test('Chromium decodes the PNGs to the same pixels', async () => {
  const executablePath = process.env.FERRY_TEST_CHROMIUM;
  if (!executablePath) assert.fail('FERRY_TEST_CHROMIUM is not set: run `bash scripts/services/chromium.sh start && eval "$(bash scripts/services/chromium.sh env)"` (or scripts/test-all.sh)');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const rnd = seededRandom(4);
    // Noise over several IDAT chunks, and a smooth image with runs.
    const cases: [number, number, Uint8Array][] = [
      [1500, 1000, Uint8Array.from({ length: 1500 * 1000 }, () => Math.floor(rnd() * 256))],
      [257, 31, noisyImage(257, 31, 5)],
    ];
    for (const [width, height, pixels] of cases) {
      const png = encodeGreyPng(pixels, width, height, RLE);
      const got = await page.evaluate(async ({ png, width, height }) => {
        // Runs in the page: the DOM types are not in this project's lib.
        const { createImageBitmap, OffscreenCanvas } = globalThis as any;
        const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
        const canvas = new OffscreenCanvas(width, height);
        const ctx = canvas.getContext('2d');
        ctx.drawImage(bitmap, 0, 0);
        const rgba = ctx.getImageData(0, 0, width, height).data;
        let grey = '';
        for (let i = 0; i < rgba.length; i += 4) grey += String.fromCharCode(rgba[i]);
        return { width: bitmap.width, height: bitmap.height, grey: btoa(grey) };
      }, { png: png.toString('base64'), width, height });
      assert.deepEqual([got.width, got.height], [width, height]);
      assert.deepEqual(new Uint8Array(Buffer.from(got.grey, 'base64')), pixels, `${width} x ${height} in Chromium`);
    }
  } finally {
    await browser.close();
  }
});
