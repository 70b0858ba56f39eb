// A stack of 2D sections, one grey PNG or TIFF file per z, in a folder or on an object store:
// found in a folder (ordered by the number in each name) or listed in a registry file (in the
// order listed), checked to be one size and one type, and read a box at a time through
// codecs/image.ts. libvips opens a local section itself and reads only what it needs; a section
// on S3 or GCS comes whole through the Store (a PNG's header alone, from its first bytes).
import { availableParallelism } from 'node:os';
import { boxShape } from '../arrays/box.ts';
import type { Box, Vec3 } from '../arrays/box.ts';
import { allocateVoxels, bytesOfVoxels, bytesPerVoxel } from '../arrays/voxels.ts';
import type { VoxelArray } from '../arrays/voxels.ts';
import { decodeGrey, readImageHeader } from '../codecs/image.ts';
import type { GreyPixels, ImageHeader, ImageInput } from '../codecs/image.ts';
import { FerryError } from '../errors.ts';
import { joinLocation, localPath, resolveLocation, splitLocation } from '../storage/location.ts';
import type { FolderStores, StoreFile, StoreFolder } from '../storage/location.ts';
import type { Store } from '../storage/store.ts';
import { mapLimited } from '../map-limited.ts';

const SECTION_FILE = /\.(png|tiff?)$/i;
/** Bytes of an object read for a PNG's header: IHDR comes first, a palette or text chunks soon after. */
const HEADER_BYTES = 64 * 1024;

/** What reading sections needs of a Store. */
export type SectionStore = Pick<Store, 'url' | 'capabilities' | 'list' | 'readBytes'>;

export type Section = StoreFile<SectionStore>;

export interface SectionStack {
  /** One entry per z from 0; null where a gap in the numbering is filled with zeros. */
  sections: (Section | null)[];
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
  const runs = name.slice(name.lastIndexOf('/') + 1).replace(SECTION_FILE, '').match(/\d+/g);
  return runs ? Number(runs[runs.length - 1]) : undefined;
}

/** Sections of a folder's stack, in z order, with null for gaps when they are allowed. */
export async function listSectionFolder(folder: StoreFolder<SectionStore>, opts: SectionListOptions = {}): Promise<(Section | null)[]> {
  const dir = folder.name;
  const names: string[] = [];
  try {
    for await (const o of folder.store.list('', { delimiter: true })) if (SECTION_FILE.test(o.key)) names.push(o.key);
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
  const sections: (Section | null)[] = [];
  const missing: number[] = [];
  for (let n = first; n <= last; n++) {
    const key = byNumber.get(n);
    if (key === undefined) missing.push(n);
    sections.push(key === undefined ? null : { store: folder.store, key, name: joinLocation(dir, key) });
  }
  if (missing.length > 0 && !opts.fillGaps) {
    const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, ... (${missing.length} in all)` : '');
    throw new FerryError(`the sections in ${dir} skip number(s) ${shown} between ${first} and ${last}`, {
      hint: 'add the missing sections, or pass --fill-gaps to write zeros for them',
    });
  }
  return sections;
}

/**
 * Sections listed in a registry: one section a line, in z order; the first whitespace-separated
 * field is the path or URL (relative to the registry's folder), the rest is ignored; '#' starts a
 * comment. Each section's folder is opened through `stores`.
 */
export async function listSectionRegistry(registry: StoreFile<SectionStore>, stores: FolderStores): Promise<Section[]> {
  let text: string;
  try {
    text = (await registry.store.readBytes(registry.key)).toString('utf8');
  } catch (e) {
    throw new FerryError(`cannot read the registry ${registry.name}: ${(e as Error).message}`, { hint: 'check the path of the registry file' });
  }
  const base = splitLocation(registry.name).folder;
  const locations = text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((l) => resolveLocation(base, l.split(/\s+/)[0]));
  if (locations.length === 0) throw new FerryError(`the registry ${registry.name} lists no sections`, { hint: 'list one section file a line' });
  return Promise.all(locations.map((l) => stores.file(l)));
}

interface SectionHeader {
  width: number;
  height: number;
  dataType: 'uint8' | 'uint16';
}

/** What libvips reads a section from: the local file, or the object's bytes (`range` of them). */
async function sectionInput(section: Section, range?: { start: number; end: number }): Promise<ImageInput> {
  return localPath(section.store, section.key) ?? section.store.readBytes(section.key, range);
}

/** A section's header, from its first bytes when they hold it (a PNG on an object store). */
async function sectionHeader(section: Section): Promise<SectionHeader> {
  const input = await sectionInput(section, { start: 0, end: HEADER_BYTES });
  // A TIFF's directory may be anywhere in the file (libvips writes it last): it is read whole.
  const whole = typeof input !== 'string' && (await readImageHeader(input).catch(() => undefined))?.format !== 'png';
  return headerOf(section, whole ? await sectionInput(section) : input);
}

/** Reads the header from `input` and checks that Ferry can ingest such a section. */
async function headerOf(section: Section, input: ImageInput): Promise<SectionHeader> {
  const file = section.name;
  let meta: ImageHeader;
  try {
    meta = await readImageHeader(input);
  } catch (e) {
    throw new FerryError(`section ${file} is not a readable image: ${(e as Error).message}`, { hint: 'replace or remove the file' });
  }
  if (meta.format !== 'png' && meta.format !== 'tiff') {
    throw new FerryError(`section ${file} is ${meta.format}, not PNG or TIFF`, { hint: 'convert it to a grey PNG or TIFF' });
  }
  if (meta.channels !== 1 || meta.pages > 1) {
    throw new FerryError(`section ${file} has ${meta.channels} channel(s) and ${meta.pages} page(s); Ferry ingests single-page grey sections`, {
      hint: 'convert the stack to one grey (single-channel) image per z',
    });
  }
  if (!meta.depth) throw new FerryError(`section ${file} has ${meta.sampleType} pixels; Ferry ingests 8- and 16-bit grey`, { hint: 'convert it to 8- or 16-bit grey' });
  return { width: meta.width, height: meta.height, dataType: meta.depth };
}

/** Reads every section's header and checks they agree: one size and one type for the stack. */
export async function probeStack(sections: (Section | null)[]): Promise<SectionStack> {
  const present = sections.filter((f): f is Section => f !== null);
  const headers = await mapLimited(present, availableParallelism() * 2, sectionHeader);
  const first = headers[0];
  headers.forEach((h, i) => {
    if (h.width !== first.width || h.height !== first.height) {
      throw new FerryError(`section ${present[i].name} is ${h.width}x${h.height}, but ${present[0].name} is ${first.width}x${first.height}`, {
        hint: 'every section of a stack must have the same size: crop or pad the odd ones',
      });
    }
    if (h.dataType !== first.dataType) {
      throw new FerryError(`section ${present[i].name} is ${h.dataType}, but ${present[0].name} is ${first.dataType}`, {
        hint: 'every section of a stack must have the same pixel type: convert the odd ones',
      });
    }
  });
  return { sections, ...first };
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
    const section = stack.sections[z];
    // A reused buffer holds another slab's voxels: a gap must be zeroed, not skipped.
    if (section === null) bytes.fill(0, at, at + plane);
    else {
      const pixels = await readSectionRegion(section, stack, [box.start[0], box.start[1], 0], [sx, sy, 1]);
      bytes.set(pixels, at);
      release(pixels);
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
async function readSectionRegion(section: Section, stack: SectionStack, start: Vec3, shape: Vec3): Promise<Buffer> {
  const file = section.name;
  const input = await sectionInput(section);
  const header = await headerOf(section, input);
  if (header.width !== stack.width || header.height !== stack.height || header.dataType !== stack.dataType) {
    throw new FerryError(`section ${file} is now ${header.width}x${header.height} ${header.dataType}; the stack is ${stack.width}x${stack.height} ${stack.dataType}`, {
      hint: 'the file changed since the plan: restore it, or plan again into a new destination',
    });
  }
  let decoded: GreyPixels;
  try {
    const whole = start[0] === 0 && start[1] === 0 && shape[0] === stack.width && shape[1] === stack.height;
    decoded = await decodeGrey(input, stack.dataType, whole ? undefined : { left: start[0], top: start[1], width: shape[0], height: shape[1] });
  } catch (e) {
    throw new FerryError(`section ${file} could not be read: ${(e as Error).message}`, { hint: 'replace the file (it may be truncated or corrupt)' });
  }
  const { data } = decoded;
  if (decoded.channels !== 1 || decoded.width !== shape[0] || decoded.height !== shape[1] || data.byteLength !== shape[0] * shape[1] * bytesPerVoxel(stack.dataType)) {
    throw new FerryError(`section ${file} decoded as ${decoded.width}x${decoded.height}x${decoded.channels}; expected ${shape[0]}x${shape[1]} grey ${stack.dataType}`, {
      hint: 'the file changed since the plan: re-plan, or replace it with a section of the stack\'s size and type',
    });
  }
  return data;
}
