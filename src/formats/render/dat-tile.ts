// What the Render import keeps of a `.dat` header: the fields EM_recon_pipeline dat_to_render.py
// retains (read_next_header_batch). Kept small on purpose: an acquisition has ~120,000 tiles, and
// the full header of each would cost gigabytes.
import type { DatHeader } from '../fibsem/header.ts';

/** Compared against the first tile of a layer group: a change starts a new group (a restart). */
export const COMMON_HEADER_KEYS = ['XResolution', 'YResolution', 'PixelSize', 'EightBit', 'ChanNum', 'SWdate', 'StageX', 'StageY', 'StageZ', 'StageR'] as const;

export interface TileHeader {
  XResolution: number;
  YResolution: number;
  PixelSize: number;
  EightBit: number;
  ChanNum: number;
  SWdate: string;
  StageX: number;
  StageY: number;
  StageZ: number;
  StageR: number;
  WD: number;
  /** Version 9 only: the tile's stage position in pixels. */
  FirstX?: number;
  FirstY?: number;
  SampleID: string;
}

/** One `.dat` file: its base name (e.g. `Merlin-6285_21-08-23_084156_0-0-0.dat`) and header. */
export interface DatTile {
  name: string;
  header: TileHeader;
}

export function tileHeaderOf(h: DatHeader): TileHeader {
  const t: TileHeader = {
    XResolution: h.XResolution,
    YResolution: h.YResolution,
    PixelSize: h.PixelSize,
    EightBit: h.EightBit,
    ChanNum: h.ChanNum,
    SWdate: h.SWdate,
    StageX: h.StageX,
    StageY: h.StageY,
    StageZ: h.StageZ,
    StageR: h.StageR,
    WD: h.WD,
    SampleID: h.SampleID ?? sampleIdFromNotes(h.Notes),
  };
  if (h.FirstX !== undefined) t.FirstX = h.FirstX;
  if (h.FirstY !== undefined) t.FirstY = h.FirstY;
  return t;
}

// Before version 9 the pipeline takes the sample from the notes, up to the first comma; with no
// comma, Python's notes[0:notes.find(",")] is notes[0:-1]: all but the last character.
function sampleIdFromNotes(notes: string): string {
  const comma = notes.indexOf(',');
  return comma < 0 ? notes.slice(0, -1) : notes.slice(0, comma);
}
