// Lou Scheffer's 16-bit to 8-bit "Compress" rule that turns channel 0 (InLens) of a `.dat` into the
// FlyEM 8-bit PNG, exactly as EM_recon_pipeline `dat_to_scheffer_8_bit.py` ports it from Compress.cpp:
//   1. mean and population sigma over unsaturated pixels (-32768+3 <= p < 32767-3);
//   2. low = max(mean - 4 sigma, -32768), high = min(mean + 4 sigma, 32767);
//   3. swap low and high (inverts the contrast), span = high - low;
//   4. v = 255 * ((p - low) / span) + 0.5; v <= -1 -> 0, v >= 256 -> 255, else truncated to uint8.
// A sample has only 65,536 possible values, so one histogram pass gives the exact statistics and a
// 65,536-entry table gives every output value by the formula above; the image pass is a lookup.
import type { DatSamples } from './pixels.ts';

const BIAS = 32768;
const SATURATED = 3;
const LOW_BOUND = -32768;
const HIGH_BOUND = 32767;

export interface InLensStats {
  pixels: number;
  /** Pixels that entered the mean and sigma. */
  unsaturated: number;
  mean: number;
  /** Population standard deviation (divides by the count, as numpy.std does). */
  stdDev: number;
  /** Raw value mapped to 0 after the swap (mean + 4 sigma, clamped). */
  low: number;
  /** Raw value mapped to 255 after the swap (mean - 4 sigma, clamped). */
  high: number;
  clippedBlack: number;
  clippedWhite: number;
}

export interface InLensImage {
  pixels: Uint8Array;
  stats: InLensStats;
}

/** Applies the rule to one channel (int16, or uint8 read as the same numbers, as the Python port does). */
export function toInLens(samples: DatSamples): InLensImage {
  const hist = histogram(samples);
  const { lut, stats } = inLensTable(hist, samples.length);
  const out = new Uint8Array(samples.length);
  const n = samples.length;
  for (let i = 0; i < n; i++) out[i] = lut[samples[i] + BIAS];
  return { pixels: out, stats };
}

/** The rule on a channel already read as offset codes (value + 32768) with their histogram. */
export function inLensFromCodes(codes: Uint16Array, hist: Uint32Array): InLensImage {
  const { lut, stats } = inLensTable(hist, codes.length);
  const out = new Uint8Array(codes.length);
  const n = codes.length;
  for (let i = 0; i < n; i++) out[i] = lut[codes[i]];
  return { pixels: out, stats };
}

/** Output values of one row: `row[x] = lut[codes[start + x]]` for every x of `row`. */
export function lookupRow(codes: Uint16Array, start: number, lut: Uint8Array, row: Uint8Array): void {
  const n = row.length;
  for (let x = 0; x < n; x++) row[x] = lut[codes[start + x]];
}

/** Counts of each sample value, indexed by value + 32768. */
export function histogram(samples: DatSamples): Uint32Array {
  const hist = new Uint32Array(65536);
  const n = samples.length;
  for (let i = 0; i < n; i++) hist[samples[i] + BIAS]++;
  return hist;
}

/** The output value of every possible input (index value + 32768), and the statistics behind it. */
export function inLensTable(hist: Uint32Array, pixels: number): { lut: Uint8Array; stats: InLensStats } {
  const first = LOW_BOUND + SATURATED + BIAS;
  const end = HIGH_BOUND - SATURATED + BIAS;
  let count = 0;
  let sum = 0;
  for (let i = first; i < end; i++) {
    const c = hist[i];
    if (c !== 0) {
      count += c;
      sum += c * (i - BIAS);
    }
  }
  const mean = sum / count;
  // Sum of squared deviations from the mean (two-pass form, as numpy.std computes it).
  let ss = 0;
  for (let i = first; i < end; i++) {
    const c = hist[i];
    if (c !== 0) {
      const d = i - BIAS - mean;
      ss += c * d * d;
    }
  }
  const stdDev = Math.sqrt(ss / count);

  let low = mean - 4 * stdDev;
  let high = mean + 4 * stdDev;
  if (low < LOW_BOUND) low = LOW_BOUND;
  if (high > HIGH_BOUND) high = HIGH_BOUND;
  [low, high] = [high, low];
  const span = high - low;

  const lut = new Uint8Array(65536);
  let clippedBlack = 0;
  let clippedWhite = 0;
  for (let i = 0; i < 65536; i++) {
    const v = 255 * ((i - BIAS - low) / span) + 0.5;
    if (v <= -1) {
      clippedBlack += hist[i];
    } else if (v >= 256) {
      lut[i] = 255;
      clippedWhite += hist[i];
    } else if (v > 0) {
      // Values in (-1, 0] and NaN (no unsaturated pixel at all) stay 0, as the uint8 cast gives.
      lut[i] = Math.trunc(v);
    }
  }
  return { lut, stats: { pixels, unsaturated: count, mean, stdDev, low, high, clippedBlack, clippedWhite } };
}
