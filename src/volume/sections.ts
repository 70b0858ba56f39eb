// A stack of 2D sections, one grey PNG or TIFF file per z: found in a folder (ordered by the
// number in each name) or listed in a registry file (in the order listed), checked to be one
// size and one type, and read a box at a time through sharp.
import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import type { Metadata, OutputInfo } from 'sharp';
import { FerryError } from '../errors.ts';
import { mapLimited } from '../map-limited.ts';
import { allocateVoxels, bytesOfVoxels, bytesPerVoxel } from '../formats/precomputed/dtype.ts';
import type { VoxelArray } from '../formats/precomputed/dtype.ts';
import { boxShape } from '../formats/precomputed/grid.ts';
import type { Box, Vec3 } from '../formats/precomputed/grid.ts';

const SECTION_FILE = /\.(png|tiff?)$/i;

export interface SectionStack {
  /** One entry per z from 0; null where a gap in the numbering is filled with zeros. */
  files: (string | null)[];
  width: number;
  height: number;
  dataType: 'uint8' | 'uint16';
}

export interface SectionListOptions {
  /** Write zeros for numbers missing from a folder's sequence instead of failing. */
  fillGaps?: boolean;
}

/** The number a section's name is ordered by: the last run of digits in it. */
export function sectionNumber(name: string): number | undefined {
  const runs = basename(name).replace(SECTION_FILE, '').match(/\d+/g);
  return runs ? Number(runs[runs.length - 1]) : undefined;
}

/** Files of a folder's stack, in z order, with null for gaps when they are allowed. */
export async function listSectionFolder(dir: string, opts: SectionListOptions = {}): Promise<(string | null)[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => SECTION_FILE.test(n));
  } catch (e) {
    throw new FerryError(`cannot list sections in ${dir}: ${(e as Error).message}`, { hint: 'give a folder of PNG or TIFF sections, or a registry file' });
  }
  if (names.length === 0) throw new FerryError(`no PNG or TIFF sections in ${dir}`, { hint: 'section files end in .png, .tif or .tiff' });
  const byNumber = new Map<number, string>();
  for (const name of names) {
    const n = sectionNumber(name);
    if (n === undefined) throw new FerryError(`section ${name} in ${dir} has no number in its name`, { hint: 'name sections by z, e.g. section_0001.png' });
    const other = byNumber.get(n);
    if (other) throw new FerryError(`sections ${other} and ${name} in ${dir} have the same number ${n}`, { hint: 'keep one file per z' });
    byNumber.set(n, name);
  }
  const numbers = [...byNumber.keys()].sort((a, b) => a - b);
  const first = numbers[0];
  const last = numbers[numbers.length - 1];
  const files: (string | null)[] = [];
  const missing: number[] = [];
  for (let n = first; n <= last; n++) {
    const name = byNumber.get(n);
    if (name === undefined) missing.push(n);
    files.push(name === undefined ? null : join(dir, name));
  }
  if (missing.length > 0 && !opts.fillGaps) {
    const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, ... (${missing.length} in all)` : '');
    throw new FerryError(`the sections in ${dir} skip number(s) ${shown} between ${first} and ${last}`, {
      hint: 'add the missing sections, or pass --fill-gaps to write zeros for them',
    });
  }
  return files;
}

/**
 * Files listed in a registry: one section a line, in z order; the first whitespace-separated field
 * is the path (relative to the registry's folder), the rest is ignored; '#' starts a comment.
 */
export async function listSectionRegistry(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new FerryError(`cannot read the registry ${file}: ${(e as Error).message}`, { hint: 'check the path of the registry file' });
  }
  const files = text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((l) => resolve(dirname(file), l.split(/\s+/)[0]));
  if (files.length === 0) throw new FerryError(`the registry ${file} lists no sections`, { hint: 'list one section file a line' });
  return files;
}

interface SectionHeader {
  width: number;
  height: number;
  dataType: 'uint8' | 'uint16';
}

async function sectionHeader(file: string): Promise<SectionHeader> {
  let meta: Metadata;
  try {
    meta = await sharp(file).metadata();
  } catch (e) {
    throw new FerryError(`section ${file} is not a readable image: ${(e as Error).message}`, { hint: 'replace or remove the file' });
  }
  if (meta.format !== 'png' && meta.format !== 'tiff') {
    throw new FerryError(`section ${file} is ${meta.format}, not PNG or TIFF`, { hint: 'convert it to a grey PNG or TIFF' });
  }
  if (meta.channels !== 1 || (meta.pages ?? 1) > 1) {
    throw new FerryError(`section ${file} has ${meta.channels} channel(s) and ${meta.pages ?? 1} page(s); Ferry ingests single-page grey sections`, {
      hint: 'convert the stack to one grey (single-channel) image per z',
    });
  }
  const dataType = meta.depth === 'uchar' ? 'uint8' : meta.depth === 'ushort' ? 'uint16' : undefined;
  if (!dataType) throw new FerryError(`section ${file} has ${meta.depth} pixels; Ferry ingests 8- and 16-bit grey`, { hint: 'convert it to 8- or 16-bit grey' });
  return { width: meta.width!, height: meta.height!, dataType };
}

/** Reads every section's header and checks they agree: one size and one type for the stack. */
export async function probeStack(files: (string | null)[]): Promise<SectionStack> {
  const present = files.filter((f): f is string => f !== null);
  const headers = await mapLimited(present, availableParallelism() * 2, sectionHeader);
  const first = headers[0];
  headers.forEach((h, i) => {
    if (h.width !== first.width || h.height !== first.height) {
      throw new FerryError(`section ${present[i]} is ${h.width}x${h.height}, but ${present[0]} is ${first.width}x${first.height}`, {
        hint: 'every section of a stack must have the same size: crop or pad the odd ones',
      });
    }
    if (h.dataType !== first.dataType) {
      throw new FerryError(`section ${present[i]} is ${h.dataType}, but ${present[0]} is ${first.dataType}`, {
        hint: 'every section of a stack must have the same pixel type: convert the odd ones',
      });
    }
  });
  return { files, ...first };
}

/**
 * Voxels of `box` (0-based stack coordinates: x, y in the image, z the section index), x fastest,
 * into `into` when given (a reused buffer of the box's size) or a new array. Sections decode in
 * parallel on sharp's threads; each is checked against the stack's header.
 */
export async function readSections(stack: SectionStack, box: Box, into?: VoxelArray): Promise<VoxelArray> {
  const [sx, sy, sz] = boxShape(box);
  const out = into ?? allocateVoxels(stack.dataType, sx * sy * sz);
  if (out.length !== sx * sy * sz) throw new FerryError(`a buffer of ${out.length} voxels cannot hold ${sx}x${sy}x${sz}`);
  const bytes = bytesOfVoxels(out);
  const plane = sx * sy * bytesPerVoxel(stack.dataType);
  const zs = Array.from({ length: sz }, (_, i) => box.start[2] + i);
  // One more decode than cores, so a core is not left idle while a finished one is copied.
  await mapLimited(zs, availableParallelism() + 1, async (z) => {
    const at = (z - box.start[2]) * plane;
    const file = stack.files[z];
    // A reused buffer holds another slab's voxels: a gap must be zeroed, not skipped.
    if (file === null) bytes.fill(0, at, at + plane);
    else {
      const section = await readSectionRegion(file, stack, [box.start[0], box.start[1], 0], [sx, sy, 1]);
      bytes.set(section, at);
      release(section);
    }
  });
  return out;
}

/**
 * Frees a decoded section now rather than at V8's next full collection, which may be many
 * sections away: the decoder's memory goes straight back to the allocator for the next one,
 * instead of each section landing in fresh pages (a fault per 4 KiB) while dead ones pile up.
 * Detaching the buffer drops sharp's memory; a buffer that cannot be detached is left to the GC.
 */
function release(b: Buffer): void {
  if (b.byteOffset !== 0 || b.buffer.byteLength !== b.byteLength) return;
  try {
    (b.buffer as ArrayBuffer).transfer(0);
  } catch {
    // not detachable: collected in the ordinary way
  }
}

/** The region's pixels as little-endian bytes (sharp gives 16-bit samples in host order). */
async function readSectionRegion(file: string, stack: SectionStack, start: Vec3, shape: Vec3): Promise<Buffer> {
  const sixteen = stack.dataType === 'uint16';
  const header = await sectionHeader(file);
  if (header.width !== stack.width || header.height !== stack.height || header.dataType !== stack.dataType) {
    throw new FerryError(`section ${file} is now ${header.width}x${header.height} ${header.dataType}; the stack is ${stack.width}x${stack.height} ${stack.dataType}`, {
      hint: 'the file changed since the plan: restore it, or plan again into a new destination',
    });
  }
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    let img = sharp(file, { limitInputPixels: false });
    const whole = start[0] === 0 && start[1] === 0 && shape[0] === stack.width && shape[1] === stack.height;
    if (!whole) img = img.extract({ left: start[0], top: start[1], width: shape[0], height: shape[1] });
    decoded = await img
      .toColourspace(sixteen ? 'grey16' : 'b-w')
      .raw(sixteen ? { depth: 'ushort' } : {}).toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new FerryError(`section ${file} could not be read: ${(e as Error).message}`, { hint: 'replace the file (it may be truncated or corrupt)' });
  }
  const { info, data } = decoded;
  if (info.channels !== 1 || info.width !== shape[0] || info.height !== shape[1] || data.byteLength !== shape[0] * shape[1] * (sixteen ? 2 : 1)) {
    throw new FerryError(`section ${file} decoded as ${info.width}x${info.height}x${info.channels}; expected ${shape[0]}x${shape[1]} grey ${stack.dataType}`, {
      hint: 'the file changed since the plan: re-plan, or replace it with a section of the stack\'s size and type',
    });
  }
  return data;
}
