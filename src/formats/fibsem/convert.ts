// `.dat` -> `<pngDir>/<datBase>-InLens.png` plus `<logDir>/<datBase>.log`, the two files the FlyEM
// transfer writes per tile (check_tabs counts both). Both are written atomically and the log only
// after the PNG, so a log always means a complete PNG. Running it twice gives the same files.
import { basename, join } from 'node:path';
import { constants as zlibConstants } from 'node:zlib';
import { encodeGreyPngRows } from '../../codecs/grey-png.ts';
import type { PngDeflate } from '../../codecs/grey-png.ts';
import { FerryError } from '../../errors.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { inLensTable, lookupRow } from './inlens.ts';
import type { InLensStats } from './inlens.ts';
import { DAT_SUFFIX, INLENS_SUFFIX, LOG_SUFFIX, coreName } from './names.ts';
import { readDatChannelCodes } from './pixels.ts';
import { openDat } from './read.ts';

/**
 * zlib settings for the PNG (codecs/grey-png.ts). On noise-dominated 6,250 x 6,250 tiles
 * (bench/dat-to-png.ts) zlib's default strategy at levels 1 to 3 takes 2.6x the time of Z_RLE
 * searching for matches it hardly finds, for a file no smaller (on the real test tile, 4% larger).
 * Z_HUFFMAN_ONLY is as fast but would not shrink blank or clipped areas, which Z_RLE does. Z_RLE
 * uses the level only to tell it from 0 (stored); 3 is the level these files were written with.
 */
export const INLENS_PNG_DEFLATE: PngDeflate = { level: 3, strategy: zlibConstants.Z_RLE };

export interface InLensResult {
  dat: string;
  png: string;
  log: string;
  width: number;
  height: number;
  stats: InLensStats;
}

export interface ConvertOptions {
  /** Leave a PNG or log that is already there untouched (repairs add files, never change them). */
  keepExisting?: boolean;
}

export async function convertDatToInLensPng(datPath: string, pngDir: string, logDir: string, opts: ConvertOptions = {}): Promise<InLensResult> {
  const base = coreName(datPath, DAT_SUFFIX) ?? basename(datPath);
  const dat = await openDat(datPath);
  const hist = new Uint32Array(65536);
  let codes: Uint16Array;
  try {
    codes = await readDatChannelCodes(dat, 0, hist);
  } finally {
    await dat.handle.close();
  }
  const { XResolution: width, YResolution: height, ChanNum } = dat.header;
  // The table gives every output byte, so rows go from codes straight into the PNG encoder.
  const { lut, stats } = inLensTable(hist, codes.length);
  const png = encodeGreyPngRows(width, height, (y, row) => lookupRow(codes, y * width, lut, row), INLENS_PNG_DEFLATE);

  const pngPath = join(pngDir, base + INLENS_SUFFIX);
  const logPath = join(logDir, base + LOG_SUFFIX);
  await writeOutput(pngPath, png, opts);
  await writeOutput(logPath, logText(datPath, pngPath, [ChanNum, height, width], stats), opts);
  return { dat: datPath, png: pngPath, log: logPath, width, height, stats };
}

// The lines the Python port of Compress logs per tile, so operators find the numbers they know.
function logText(datPath: string, pngPath: string, shape: number[], s: InLensStats): string {
  const at = new Date().toISOString();
  const pct = (n: number) => ((n * 100) / s.pixels).toFixed(5);
  return [
    `${at} compress_compute: processing channel 0 from dat with shape (${shape.join(', ')}) ${datPath}`,
    `${at} compress_compute: ${s.unsaturated} real pixels, ${(s.unsaturated * 100) / s.pixels} percent`,
    `${at} compress_compute: Of the above image points, mean= ${s.mean} and std dev = ${s.stdDev}`,
    `${at} compress_compute: low ${s.low.toFixed(2)}  -> 0, high ${s.high.toFixed(2)} -> 255`,
    `${at} compress_compute: ${s.clippedBlack} (${pct(s.clippedBlack)}%) clipped to black, ${s.clippedWhite} (${pct(s.clippedWhite)}%) clipped to white`,
    `${at} compress_and_save: saved ${pngPath}`,
    '',
  ].join('\n');
}

async function writeOutput(path: string, data: Uint8Array | string, opts: ConvertOptions): Promise<void> {
  try {
    await writeFileAtomic(path, data, opts);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FerryError(`cannot write ${path}: ${code ?? (e as Error).message}`, {
      hint: code === 'ENOSPC' ? 'free space on the output filesystem' : 'check that the output folder exists and is writable',
      code,
      exitCode: 1,
      cause: e,
    });
  }
}
