import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toInLens } from './inlens.ts';
import { seededRandom } from '../../testing/random.ts';

// The rule written the obvious way, pixel by pixel, as dat_to_scheffer_8_bit.py states it.
function reference(p: ArrayLike<number>): { pixels: number[]; mean: number; std: number; low: number; high: number } {
  const real: number[] = [];
  for (let i = 0; i < p.length; i++) if (p[i] >= -32768 + 3 && p[i] < 32767 - 3) real.push(p[i]);
  const mean = real.reduce((a, b) => a + b, 0) / real.length;
  const std = Math.sqrt(real.reduce((a, b) => a + (b - mean) ** 2, 0) / real.length);
  let low = Math.max(mean - 4 * std, -32768);
  let high = Math.min(mean + 4 * std, 32767);
  [low, high] = [high, low];
  const span = high - low;
  const pixels = Array.from(p, (x) => {
    const v = 255.0 * ((x - low) / span) + 0.5;
    if (v <= -1) return 0;
    if (v >= 256) return 255;
    return v < 0 ? 0 : Math.floor(v);
  });
  return { pixels, mean, std, low, high };
}

test('hand-computed: mean 0, sigma 1, contrast inverted, saturated pixels ignored then clipped', () => {
  const img = toInLens(Int16Array.from([-1, 1, -1, 1, 32767, -32768, 32764, -32766]));
  // low = 0 + 4 = 4 -> 0, high = -4 -> 255, span = -8.
  // -1: 255 * (-5 / -8) + 0.5 = 159.875 -> 159;  1: 255 * (-3 / -8) + 0.5 = 96.125 -> 96.
  assert.deepEqual([...img.pixels], [159, 96, 159, 96, 0, 255, 0, 255]);
  assert.equal(img.stats.unsaturated, 4);
  assert.equal(img.stats.mean, 0);
  assert.equal(img.stats.stdDev, 1);
  assert.equal(img.stats.low, 4);
  assert.equal(img.stats.high, -4);
  assert.equal(img.stats.clippedBlack, 2);
  assert.equal(img.stats.clippedWhite, 2);
});

test('a generated int16 tile matches the independent computation, with clipping at both ends', () => {
  const rnd = seededRandom(7);
  const n = 256 * 256;
  const p = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    // Mostly noise around 1,800; some saturated pixels; some far outliers on both sides.
    if (r < 0.01) p[i] = 32767;
    else if (r < 0.02) p[i] = -32768;
    else if (r < 0.03) p[i] = 32765;
    else if (r < 0.04) p[i] = 20000 + Math.floor(rnd() * 5000);
    else if (r < 0.05) p[i] = -20000 - Math.floor(rnd() * 5000);
    else p[i] = 1800 + Math.round((rnd() + rnd() + rnd() - 1.5) * 900);
  }
  const img = toInLens(p);
  const ref = reference(p);
  assert.equal(img.stats.unsaturated, [...p].filter((x) => x >= -32765 && x < 32764).length);
  assert.ok(Math.abs(img.stats.mean - ref.mean) < 1e-9);
  assert.ok(Math.abs(img.stats.stdDev - ref.std) < 1e-9);
  assert.ok(img.stats.clippedBlack > 0 && img.stats.clippedWhite > 0, 'both ends clip');
  let diff = 0;
  for (let i = 0; i < n; i++) if (img.pixels[i] !== ref.pixels[i]) diff++;
  assert.equal(diff, 0, `${diff} pixels differ from the reference`);
  // Inverted contrast: bright outliers clip to black, dark outliers to white.
  const bright = p.findIndex((x) => x >= 20000 && x < 32764);
  const dark = p.findIndex((x) => x <= -20000 && x > -32765);
  assert.equal(img.pixels[bright], 0);
  assert.equal(img.pixels[dark], 255);
});

test('a spread wider than the int16 range clamps low and high to the range before the swap', () => {
  const p = Int16Array.from({ length: 1000 }, (_, i) => (i % 2 ? 32000 : -32000));
  const img = toInLens(p);
  assert.equal(img.stats.low, 32767);
  assert.equal(img.stats.high, -32768);
  assert.deepEqual([...new Set(reference(p).pixels)].sort(), [...new Set(img.pixels)].sort());
  // 32000: 255 * ((32000 - 32767) / -65535) + 0.5 = 3.48 -> 3; -32000: 252.5 -> 252.
  assert.equal(img.pixels[0], 252);
  assert.equal(img.pixels[1], 3);
});

test('8-bit samples go through the same rule', () => {
  const p = Uint8Array.from({ length: 500 }, (_, i) => (i * 37) % 256);
  assert.deepEqual([...toInLens(p).pixels], reference(p).pixels);
});
