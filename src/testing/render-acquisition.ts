// Test acquisitions for the Render import, built from the real version-9 fixture: its 1 KiB header
// with fields rewritten (time in the name, stage and first-pixel positions, working distance,
// resolution), in memory for the planner, or on disk with the file extended to the size the header
// promises (sparse: the import never reads pixels), so a tab of 120,000 tiles costs little disk.
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAT_HEADER_BYTES, parseDatHeader } from '../formats/fibsem/header.ts';
import { tileHeaderOf } from '../formats/render/dat-tile.ts';
import type { DatTile, TileHeader } from '../formats/render/dat-tile.ts';

export const FIXTURE = fileURLToPath(new URL('../formats/fibsem/testdata/small_21-07-31_152727_0-0-1.dat', import.meta.url));

const FIXTURE_HEADER = readFileSync(FIXTURE).subarray(0, DAT_HEADER_BYTES);

/** Header fields a test may change (version 4+ offsets, as formats/fibsem/header.ts reads them). */
export interface HeaderFields {
  FileVersion?: number;
  XResolution?: number;
  YResolution?: number;
  FirstX?: number;
  FirstY?: number;
  PixelSize?: number;
  WD?: number;
  StageX?: number;
  StageY?: number;
  StageZ?: number;
  StageR?: number;
}

export interface TestTile {
  /** `yy-mm-dd_HHMMSS` */
  stamp: string;
  /** `<section>-<row>-<column>` */
  key: string;
  fields?: HeaderFields;
}

export const tileName = (t: TestTile) => `Merlin-6285_${t.stamp}_${t.key}.dat`;

/** The fixture's header with `fields` written in, and FileLength made to match the resolution. */
export function datHeader(fields: HeaderFields = {}): Buffer {
  const b = Buffer.from(FIXTURE_HEADER);
  if (fields.FileVersion !== undefined) b.writeUInt16BE(fields.FileVersion, 4);
  if (fields.XResolution !== undefined) b.writeUInt32BE(fields.XResolution, 100);
  if (fields.YResolution !== undefined) b.writeUInt32BE(fields.YResolution, 104);
  if (fields.FirstX !== undefined) b.writeInt32BE(fields.FirstX, 70);
  if (fields.FirstY !== undefined) b.writeInt32BE(fields.FirstY, 74);
  const f32 = { PixelSize: 464, WD: 468, StageX: 534, StageY: 538, StageZ: 542, StageR: 550 } as const;
  for (const [k, at] of Object.entries(f32)) {
    const v = fields[k as keyof typeof f32];
    if (v !== undefined) b.writeFloatBE(v, at);
  }
  // 16-bit samples, ChanNum channels: the size a complete file has.
  b.writeBigInt64BE(BigInt(DAT_HEADER_BYTES + b.readUInt32BE(100) * b.readUInt32BE(104) * b.readUInt8(32) * 2), 1000);
  return b;
}

/** Writes the tile's header and extends the file to `size` bytes (default: the FileLength its header gives). */
export function writeDat(path: string, header: Buffer, size = Number(header.readBigInt64BE(1000))): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header, 0, Math.min(header.length, size));
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

/** The tiles as the planner takes them, headers decoded from the rewritten bytes. */
export function datTiles(tiles: TestTile[]): DatTile[] {
  return tiles.map((t) => ({ name: tileName(t), header: tileHeaderOf(parseDatHeader(datHeader(t.fields))) }));
}

/** XResolution = YResolution = 100, PixelSize 7.9998..., FirstX -2625, FirstY -1326. */
export const REAL_HEADER: TileHeader = tileHeaderOf(parseDatHeader(FIXTURE_HEADER));

/** `Merlin-6285_<stamp>_<key>.dat` with the fixture's header, some decoded fields replaced. */
export function datTile(stamp: string, key: string, fields: Partial<TileHeader> = {}): DatTile {
  return { name: `Merlin-6285_${stamp}_${key}.dat`, header: { ...REAL_HEADER, ...fields } };
}

export function writeAcquisition(dir: string, tiles: TestTile[]): string[] {
  return tiles.map((t) => {
    writeDat(join(dir, tileName(t)), datHeader(t.fields));
    return tileName(t);
  });
}

/** A layer of rows × cols tiles at `stamp`; positions in pixels 90 % of a tile apart, one WD per layer. */
export function layerTiles(stamp: string, rows: number, cols: number, z: number, fields: HeaderFields = {}): TestTile[] {
  const out: TestTile[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // WD grows 8 nm (8e-6 mm) a layer, stored as float32 like the scope stores it.
      out.push({ stamp, key: `0-${r}-${c}`, fields: { FirstX: -2625 + 90 * c, FirstY: -1326 + 90 * r, WD: 3.42 + z * 8e-6, ...fields } });
    }
  }
  return out;
}

/**
 * Twelve layers of two rows and three columns, with every kind of restart: a 20-minute pause before
 * layer 4, the stage moved (StageZ) at layer 6 and again at layer 7 (so layer 6 is a group of one
 * layer, patched), and a fourth column from layer 10 on (tile count).
 */
export function restartAcquisition(): TestTile[] {
  const z31 = { StageZ: 31 };
  const z32 = { StageZ: 32 };
  return [
    ...layerTiles('21-08-23_084156', 2, 3, 1),
    ...layerTiles('21-08-23_084226', 2, 3, 2),
    ...layerTiles('21-08-23_084256', 2, 3, 3),
    ...layerTiles('21-08-23_090300', 2, 3, 4),
    ...layerTiles('21-08-23_090330', 2, 3, 5),
    ...layerTiles('21-08-23_090400', 2, 3, 6, z31),
    ...layerTiles('21-08-23_090430', 2, 3, 7, z32),
    ...layerTiles('21-08-23_090500', 2, 3, 8, z32),
    ...layerTiles('21-08-23_090530', 2, 3, 9, z32),
    ...layerTiles('21-08-23_090600', 2, 4, 10, z32),
    ...layerTiles('21-08-23_090630', 2, 4, 11, z32),
    ...layerTiles('21-08-23_090700', 2, 4, 12, z32),
  ];
}
