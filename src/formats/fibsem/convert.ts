// `.dat` -> `<pngDir>/<datBase>-InLens.png` plus `<logDir>/<datBase>.log`, the two files the FlyEM
// transfer writes per tile (check_tabs counts both), read from and written to any Store. Both are
// written atomically (Store.write) and the log only after the PNG, so a log always means a
// complete PNG. Running it twice gives the same files.
import { constants as zlibConstants } from 'node:zlib';
import { encodeGreyPngRows } from '../../codecs/grey-png.ts';
import type { PngDeflate } from '../../codecs/grey-png.ts';
import { FerryError } from '../../errors.ts';
import { joinLocation } from '../../storage/location.ts';
import type { StoreFile, StoreFolder } from '../../storage/location.ts';
import type { Store } from '../../storage/store.ts';
import { inLensTable, lookupRow } from './inlens.ts';
import type { InLensStats } from './inlens.ts';
import { DAT_SUFFIX, INLENS_SUFFIX, LOG_SUFFIX, coreName } from './names.ts';
import { readDatChannelCodes } from './pixels.ts';
import { openDat } from './read.ts';
import type { DatStore } from './read.ts';

/**
 * zlib settings for the PNG (codecs/grey-png.ts). On noise-dominated 6,250 x 6,250 tiles
 * (bench/dat-to-png.ts) zlib's default strategy at levels 1 to 3 takes 2.6x the time of Z_RLE
 * searching for matches it hardly finds, for a file no smaller (on the real test tile, 4% larger).
 * Z_HUFFMAN_ONLY is as fast but would not shrink blank or clipped areas, which Z_RLE does. Z_RLE
 * uses the level only to tell it from 0 (stored); 3 is the level these files were written with.
 */
export const INLENS_PNG_DEFLATE: PngDeflate = { level: 3, strategy: zlibConstants.Z_RLE };

export interface InLensResult {
  /** Each file as the caller named it: the `.dat`, and the PNG and log in the folders given. */
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

/** What the conversion needs of the stores it writes to. */
export type InLensStore = Pick<Store, 'write'>;

export async function convertDatToInLensPng(
  datFile: StoreFile<DatStore>,
  pngDir: StoreFolder<InLensStore>,
  logDir: StoreFolder<InLensStore>,
  opts: ConvertOptions = {},
): Promise<InLensResult> {
  const base = coreName(datFile.key, DAT_SUFFIX) ?? datFile.key.slice(datFile.key.lastIndexOf('/') + 1);
  const dat = await openDat(datFile);
  const hist = new Uint32Array(65536);
  let codes: Uint16Array;
  try {
    codes = await readDatChannelCodes(dat, 0, hist);
  } finally {
    await dat.close();
  }
  const { XResolution: width, YResolution: height, ChanNum } = dat.header;
  // The table gives every output byte, so rows go from codes straight into the PNG encoder.
  const { lut, stats } = inLensTable(hist, codes.length);
  const png = encodeGreyPngRows(width, height, (y, row) => lookupRow(codes, y * width, lut, row), INLENS_PNG_DEFLATE);

  const pngName = joinLocation(pngDir.name, base + INLENS_SUFFIX);
  const logName = joinLocation(logDir.name, base + LOG_SUFFIX);
  await writeOutput(pngDir.store, base + INLENS_SUFFIX, pngName, png, 'image/png', opts);
  await writeOutput(logDir.store, base + LOG_SUFFIX, logName, logText(datFile.name, pngName, [ChanNum, height, width], stats), 'text/plain', opts);
  return { dat: datFile.name, png: pngName, log: logName, width, height, stats };
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

async function writeOutput(store: InLensStore, key: string, name: string, data: Buffer | string, contentType: string, opts: ConvertOptions): Promise<void> {
  try {
    await store.write(key, typeof data === 'string' ? Buffer.from(data) : data, { contentType, ifAbsent: opts.keepExisting });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FerryError(`cannot write ${name}: ${code ?? (e as Error).message}`, {
      hint: code === 'ENOSPC' ? 'free space on the output filesystem' : 'check that the output folder exists and is writable',
      code,
      exitCode: 1,
      cause: e,
    });
  }
}
