// MRC2014 images and stacks (https://www.ccpem.ac.uk/mrc_format/mrc2014.php): a 1024-byte
// little-endian header, an optional extended header, then the samples. Ferry writes mode 2 (float32)
// image stacks, the form cryo-EM movies take (nz frames of ny rows of nx samples), and reads the
// modes RELION writes back (float32 micrographs) plus the integer modes detectors produce.
import { endianness } from 'node:os';
import { FerryError } from '../errors.ts';

export const MRC_HEADER_BYTES = 1024;
const NVERSION_MRC2014 = 20140;
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** Sample types by MRC mode number. */
const MODES = {
  0: { bytes: 1, name: 'int8' },
  1: { bytes: 2, name: 'int16' },
  2: { bytes: 4, name: 'float32' },
  6: { bytes: 2, name: 'uint16' },
} as const;
type Mode = keyof typeof MODES;

export interface MrcHeader {
  nx: number;
  ny: number;
  nz: number;
  mode: number;
  /** Pixel size in Å along x, y, z (cell length over grid intervals; 0 when the cell is unset). */
  voxelSize: [number, number, number];
  /** Space group: 0 for an image or image stack, 1 for a volume. */
  ispg: number;
  /** Bytes of extended header between the main header and the data. */
  extendedBytes: number;
  dmin: number;
  dmax: number;
  dmean: number;
  rms: number;
  labels: string[];
}

export interface MrcStack {
  header: MrcHeader;
  /** Samples as float32, frame after frame, row after row (x fastest). */
  data: Float32Array;
}

export function parseMrcHeader(buf: Uint8Array, name = 'MRC file'): MrcHeader {
  if (buf.byteLength < MRC_HEADER_BYTES) {
    throw new FerryError(`${name} is not an MRC file: ${buf.byteLength} bytes, shorter than the 1024-byte header`);
  }
  const v = new DataView(buf.buffer, buf.byteOffset, MRC_HEADER_BYTES);
  if (String.fromCharCode(v.getUint8(208), v.getUint8(209), v.getUint8(210)) !== 'MAP') {
    throw new FerryError(`${name} is not an MRC file (no "MAP " at byte 208)`);
  }
  // MACHST: 0x44 0x44 (or 0x44 0x41) little-endian, 0x11 0x11 big-endian.
  if (v.getUint8(212) === 0x11) throw new FerryError(`${name} is a big-endian MRC file, which Ferry does not read`);
  const i32 = (o: number) => v.getInt32(o, true);
  const f32 = (o: number) => v.getFloat32(o, true);
  const [nx, ny, nz, mode] = [i32(0), i32(4), i32(8), i32(12)];
  const [mx, my, mz] = [i32(28), i32(32), i32(36)];
  const cell = [f32(40), f32(44), f32(48)];
  const nlabl = Math.min(10, Math.max(0, i32(220)));
  const labels: string[] = [];
  for (let i = 0; i < nlabl; i++) {
    labels.push(Buffer.from(buf.buffer, buf.byteOffset + 224 + 80 * i, 80).toString('latin1').replace(/[\0 ]+$/, ''));
  }
  return {
    nx,
    ny,
    nz,
    mode,
    voxelSize: [mx ? cell[0] / mx : 0, my ? cell[1] / my : 0, mz ? cell[2] / mz : 0],
    ispg: i32(88),
    extendedBytes: i32(92),
    dmin: f32(76),
    dmax: f32(80),
    dmean: f32(84),
    rms: f32(216),
    labels,
  };
}

/** Reads a whole MRC file's samples as float32 (tests and small images; movies are streamed by RELION). */
export function parseMrc(buf: Uint8Array, name = 'MRC file'): MrcStack {
  const header = parseMrcHeader(buf, name);
  const mode = MODES[header.mode as Mode];
  if (!mode) throw new FerryError(`${name} has MRC mode ${header.mode}, which Ferry does not read (modes 0, 1, 2 and 6)`);
  const count = header.nx * header.ny * header.nz;
  const start = MRC_HEADER_BYTES + header.extendedBytes;
  const need = start + count * mode.bytes;
  if (buf.byteLength < need) {
    throw new FerryError(`${name} is truncated: its header needs ${need} bytes, the file has ${buf.byteLength}`);
  }
  if (header.mode === 2 && LITTLE_ENDIAN_HOST) {
    // Uint8Array's slice copies into a fresh, aligned buffer a Float32Array can view (Buffer's does not copy).
    return { header, data: new Float32Array(Uint8Array.prototype.slice.call(buf, start, need).buffer) };
  }
  const v = new DataView(buf.buffer, buf.byteOffset + start, count * mode.bytes);
  const data = new Float32Array(count);
  const read = {
    0: (i: number) => v.getInt8(i),
    1: (i: number) => v.getInt16(i * 2, true),
    2: (i: number) => v.getFloat32(i * 4, true),
    6: (i: number) => v.getUint16(i * 2, true),
  }[header.mode as Mode];
  for (let i = 0; i < count; i++) data[i] = read(i);
  return { header, data };
}

export interface MrcWriteOptions {
  nx: number;
  ny: number;
  /** Frames of a stack (1 for a single image). */
  nz: number;
  /** Pixel size in Å. */
  pixelSize: number;
  labels?: string[];
}

/**
 * An MRC2014 image stack of float32 samples (mode 2): ISPG 0 and MZ 1, as the standard asks of
 * stacks of 2D images, so that the pixel size is read back from X and Y alone.
 */
export function encodeMrc(data: Float32Array, o: MrcWriteOptions): Buffer {
  const count = o.nx * o.ny * o.nz;
  if (data.length !== count) {
    throw new Error(`MRC data has ${data.length} samples, ${o.nx} x ${o.ny} x ${o.nz} needs ${count}`);
  }
  const labels = o.labels ?? [];
  if (labels.length > 10 || labels.some((l) => l.length > 80 || /[^\x20-\x7e]/.test(l))) {
    throw new Error('MRC labels: at most 10, each at most 80 printable ASCII characters');
  }
  const out = Buffer.alloc(MRC_HEADER_BYTES + count * 4);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const i32 = (off: number, x: number) => v.setInt32(off, x, true);
  const f32 = (off: number, x: number) => v.setFloat32(off, x, true);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < count; i++) {
    const x = data[i];
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
    sumSq += x * x;
  }
  if (LITTLE_ENDIAN_HOST) new Float32Array(out.buffer, out.byteOffset + MRC_HEADER_BYTES, count).set(data);
  else for (let i = 0; i < count; i++) v.setFloat32(MRC_HEADER_BYTES + i * 4, data[i], true);
  const mean = count ? sum / count : 0;
  i32(0, o.nx);
  i32(4, o.ny);
  i32(8, o.nz);
  i32(12, 2);
  i32(28, o.nx);
  i32(32, o.ny);
  i32(36, 1);
  f32(40, o.nx * o.pixelSize);
  f32(44, o.ny * o.pixelSize);
  f32(48, o.pixelSize);
  f32(52, 90);
  f32(56, 90);
  f32(60, 90);
  i32(64, 1);
  i32(68, 2);
  i32(72, 3);
  f32(76, count ? min : 0);
  f32(80, count ? max : 0);
  f32(84, mean);
  i32(88, 0);
  i32(92, 0);
  i32(108, NVERSION_MRC2014);
  out.write('MAP ', 208, 'latin1');
  out[212] = 0x44;
  out[213] = 0x44;
  f32(216, count ? Math.sqrt(Math.max(0, sumSq / count - mean * mean)) : 0);
  i32(220, labels.length);
  // Labels are padded with spaces to 80 characters, as IMOD's tools write them.
  labels.forEach((l, i) => out.write(l.padEnd(80, ' '), 224 + 80 * i, 'latin1'));
  return out;
}
