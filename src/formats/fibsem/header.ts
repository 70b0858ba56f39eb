// The 1024-byte big-endian header of a Janelia FIB-SEM `.dat` file, versions 1 to 9.
// Offsets follow fibsem-tools `io/dat.py` and the Hess-lab reader `readfibsem.m`; a field absent
// from a version is absent from the decoded header (undefined), never a made-up zero.
import { FerryError } from '../../errors.ts';

export const DAT_MAGIC = 3555587570;
export const DAT_HEADER_BYTES = 1024;
export const DAT_VERSIONS = [1, 2, 3, 4, 5, 6, 7, 8, 9] as const;

export const MODE_NAMES = [
  'SEM',
  'FIB',
  'Milling',
  'SEM+FIB',
  'Mill+SEM',
  'SEM drift correction',
  'FIB drift correction',
  'No beam',
  'External',
  'External+SEM',
] as const;

export interface DatHeader {
  FileMagicNum: number;
  FileVersion: number;
  FileType: number;
  SWdate: string;
  TimeStep: number;
  ChanNum: number;
  EightBit: number;
  /** Per channel: offset, gain, 2nd order, 3rd order (ChanNum rows for v1-6, 2 rows from v7). */
  Scaling: number[][];
  Restart?: number;
  StageMove?: number;
  FirstX?: number;
  FirstY?: number;
  XResolution: number;
  YResolution: number;
  Oversampling: number;
  AIDelay?: number;
  ZeissScanSpeed: number;
  ScanRate: number;
  FramelineRampdownRatio: number;
  Xmin: number;
  Xmax: number;
  Detmin: number;
  Detmax: number;
  DecimatingFactor?: number;
  AI1: number;
  AI2: number;
  AI3: number;
  AI4: number;
  SampleID?: string;
  Notes: string;
  DetA: string;
  DetB: string;
  DetC: string;
  DetD: string;
  Mag: number;
  PixelSize: number;
  WD: number;
  EHT: number;
  SEMApr: number;
  HighCurrent: number;
  SEMCurr: number;
  SEMRot: number;
  ChamVac: number;
  GunVac: number;
  SEMShiftX?: number;
  SEMShiftY?: number;
  SEMStiX: number;
  SEMStiY: number;
  SEMAlnX: number;
  SEMAlnY: number;
  StageX: number;
  StageY: number;
  StageZ: number;
  StageT: number;
  StageR: number;
  StageM: number;
  BrightnessA: number;
  ContrastA: number;
  BrightnessB: number;
  ContrastB: number;
  Mode: number;
  FIBFocus: number;
  FIBProb: number;
  FIBCurr: number;
  FIBRot: number;
  FIBAlnX: number;
  FIBAlnY: number;
  FIBStiX: number;
  FIBStiY: number;
  FIBShiftX: number;
  FIBShiftY: number;
  MillingXResolution?: number;
  MillingYResolution?: number;
  MillingXSize?: number;
  MillingYSize?: number;
  MillingULAng?: number;
  MillingURAng?: number;
  MillingLineTime?: number;
  FIBFOV?: number;
  MillingLinesPerImage?: number;
  MillingPIDOn?: number;
  MillingPIDMeasured?: number;
  MillingPIDTarget?: number;
  MillingPIDTargetSlope?: number;
  MillingPIDP?: number;
  MillingPIDI?: number;
  MillingPIDD?: number;
  MachineID?: string;
  SEMSpecimenI?: number;
  Temperature?: number;
  FaradayCupI?: number;
  FIBSpecimenI?: number;
  BeamDump1I?: number;
  SEMSpecimenICurrent?: number;
  MillingYVoltage?: number;
  FocusIndex?: number;
  FIBSliceNum?: number;
  BeamDump2I?: number;
  MillingI?: number;
  /** Total file bytes as the acquisition software wrote them. */
  FileLength: number;
}

/** Bytes the header promises: header plus X·Y·channels samples of 1 or 2 bytes. */
export function pixelDataBytes(h: Pick<DatHeader, 'XResolution' | 'YResolution' | 'ChanNum' | 'EightBit'>): number {
  return h.XResolution * h.YResolution * h.ChanNum * (h.EightBit === 1 ? 1 : 2);
}

/**
 * Bytes a complete file must have: the larger of the computed size and FileLength, because a
 * file cut short anywhere (including trailing data the software counted) is not the file it wrote.
 */
export function expectedDatBytes(h: DatHeader): number {
  return Math.max(DAT_HEADER_BYTES + pixelDataBytes(h), h.FileLength);
}

/** Decodes a header; `what` names the file in error messages. */
export function parseDatHeader(bytes: Uint8Array, what = 'file'): DatHeader {
  if (bytes.length < DAT_HEADER_BYTES) {
    throw new FerryError(`${what}: truncated .dat header: expected ${DAT_HEADER_BYTES} bytes, got ${bytes.length}`, {
      hint: 'fetch the file again from the microscope; a .dat file starts with a 1024-byte header',
      code: 'DatTruncated',
      exitCode: 1,
    });
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, DAT_HEADER_BYTES);
  const u8 = (o: number) => v.getUint8(o);
  const u16 = (o: number) => v.getUint16(o);
  const i16 = (o: number) => v.getInt16(o);
  const u32 = (o: number) => v.getUint32(o);
  const i32 = (o: number) => v.getInt32(o);
  const f32 = (o: number) => v.getFloat32(o);
  const f64 = (o: number) => v.getFloat64(o);
  const str = (o: number, n: number) => latin1(bytes.subarray(o, o + n));

  const magic = u32(0);
  if (magic !== DAT_MAGIC) {
    throw new FerryError(`${what}: not a FIB-SEM .dat file (magic number ${magic}, expected ${DAT_MAGIC})`, {
      hint: 'check that the path points at a .dat file written by the FIB-SEM acquisition software',
      code: 'DatBadMagic',
      exitCode: 1,
    });
  }
  const version = u16(4);
  if (!(DAT_VERSIONS as readonly number[]).includes(version)) {
    throw new FerryError(`${what}: unknown .dat version ${version} (Ferry reads versions 1 to 9)`, {
      hint: 'the file may be corrupt, or written by newer acquisition software; report it with the file',
      code: 'DatUnknownVersion',
      exitCode: 1,
    });
  }
  const chanNum = u8(32);
  const old = version <= 2;
  const f = old ? f64 : f32;

  const scalingRows = version >= 7 ? 2 : chanNum;
  const scalingItem = version === 1 ? 8 : 4;
  const Scaling: number[][] = [];
  for (let r = 0; r < scalingRows; r++) {
    const row: number[] = [];
    for (let c = 0; c < 4; c++) {
      const o = 36 + (r * 4 + c) * scalingItem;
      row.push(version === 1 ? f64(o) : f32(o));
    }
    Scaling.push(row);
  }

  const h: DatHeader = {
    FileMagicNum: magic,
    FileVersion: version,
    FileType: u16(6),
    SWdate: str(8, 10),
    TimeStep: f64(24),
    ChanNum: chanNum,
    EightBit: u8(33),
    Scaling,
    XResolution: u32(100),
    YResolution: u32(104),
    Oversampling: version <= 3 ? u8(108) : u16(108),
    ZeissScanSpeed: u8(111),
    ScanRate: version <= 3 ? f64(112) : f32(112),
    FramelineRampdownRatio: version <= 3 ? f64(120) : f32(116),
    Xmin: version <= 3 ? f64(128) : f32(120),
    Xmax: version <= 3 ? f64(136) : f32(124),
    // Versions 1-3 do not store the detector range; the reference reader assumes +/-10 V.
    Detmin: version <= 3 ? -10 : f32(128),
    Detmax: version <= 3 ? 10 : f32(132),
    AI1: u8(151),
    AI2: u8(152),
    AI3: u8(153),
    AI4: u8(154),
    Notes: str(180, 200),
    DetA: str(380, 10),
    DetB: str(390, 18),
    DetC: old ? str(700, 20) : str(410, 20),
    DetD: old ? str(720, 20) : str(430, 20),
    Mag: f(old ? 408 : 460),
    PixelSize: f(old ? 416 : 464),
    WD: f(old ? 424 : 468),
    EHT: f(old ? 432 : 472),
    SEMApr: u8(old ? 440 : 480),
    HighCurrent: u8(old ? 441 : 481),
    SEMCurr: f(old ? 448 : 490),
    SEMRot: f(old ? 456 : 494),
    ChamVac: f(old ? 464 : 498),
    GunVac: f(old ? 472 : 502),
    SEMStiX: f(old ? 480 : 518),
    SEMStiY: f(old ? 488 : 522),
    SEMAlnX: f(old ? 496 : 526),
    SEMAlnY: f(old ? 504 : 530),
    StageX: f(old ? 512 : 534),
    StageY: f(old ? 520 : 538),
    StageZ: f(old ? 528 : 542),
    StageT: f(old ? 536 : 546),
    StageR: f(old ? 544 : 550),
    StageM: f(old ? 552 : 554),
    BrightnessA: f(560),
    ContrastA: f(old ? 568 : 564),
    BrightnessB: f(old ? 576 : 568),
    ContrastB: f(old ? 584 : 572),
    Mode: u8(600),
    FIBFocus: f(old ? 608 : 604),
    FIBProb: u8(old ? 616 : 608),
    FIBCurr: f(old ? 624 : 620),
    FIBRot: f(old ? 632 : 624),
    FIBAlnX: f(old ? 640 : 628),
    FIBAlnY: f(old ? 648 : 632),
    FIBStiX: f(old ? 656 : 636),
    FIBStiY: f(old ? 664 : 640),
    FIBShiftX: f(old ? 672 : 644),
    FIBShiftY: f(old ? 680 : 648),
    FileLength: Number(v.getBigInt64(1000)),
  };
  if (!old) {
    h.SEMShiftX = f32(510);
    h.SEMShiftY = f32(514);
  }
  if (version <= 3) h.AIDelay = i16(109);
  else h.DecimatingFactor = u16(136);
  if (version >= 9) {
    h.Restart = u8(68);
    h.StageMove = u8(69);
    h.FirstX = i32(70);
    h.FirstY = i32(74);
    h.SampleID = str(155, 25);
  }
  if (version >= 5) {
    h.MillingXResolution = u32(652);
    h.MillingYResolution = u32(656);
    h.MillingXSize = f32(660);
    h.MillingYSize = f32(664);
    h.MillingULAng = f32(668);
    h.MillingURAng = f32(672);
    h.MillingLineTime = f32(676);
    h.FIBFOV = f32(680);
    h.MillingLinesPerImage = u16(684);
    h.MillingPIDOn = u8(686);
    h.MillingPIDMeasured = u8(689);
    h.MillingPIDTarget = f32(690);
    h.MillingPIDTargetSlope = f32(694);
    h.MillingPIDP = f32(698);
    h.MillingPIDI = f32(702);
    h.MillingPIDD = f32(706);
    h.MachineID = str(800, 30);
    h.SEMSpecimenI = f32(980);
  }
  if (version >= 6) {
    h.Temperature = f32(850);
    h.FaradayCupI = f32(854);
    h.FIBSpecimenI = f32(858);
    h.BeamDump1I = f32(862);
    h.SEMSpecimenICurrent = f32(866);
    h.MillingYVoltage = f32(870);
    h.FocusIndex = f32(874);
    h.FIBSliceNum = u32(878);
  }
  if (version >= 8) {
    h.BeamDump2I = f32(882);
    h.MillingI = f32(886);
  }
  checkGeometry(h, what);
  return h;
}

// A header with a valid magic number can still be garbage (a half-written first block); catch the
// values that would make the pixel reader allocate nonsense.
function checkGeometry(h: DatHeader, what: string): void {
  const bad = (msg: string) =>
    new FerryError(`${what}: corrupt .dat header: ${msg}`, {
      hint: 'fetch the file again from the microscope',
      code: 'DatCorruptHeader',
      exitCode: 1,
    });
  if (h.ChanNum < 1 || h.ChanNum > 4) throw bad(`ChanNum is ${h.ChanNum}, expected 1 to 4`);
  if (h.XResolution < 1 || h.YResolution < 1) throw bad(`resolution is ${h.XResolution} x ${h.YResolution}`);
  if (h.XResolution * h.YResolution > 2 ** 31) throw bad(`resolution ${h.XResolution} x ${h.YResolution} is implausibly large`);
}

/** NUL-padded fixed-width text: latin1, cut at the first NUL. */
function latin1(b: Uint8Array): string {
  const end = b.indexOf(0);
  return Buffer.from(b.buffer, b.byteOffset, end < 0 ? b.length : end).toString('latin1');
}
