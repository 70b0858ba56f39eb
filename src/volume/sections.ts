// A stack of 2D sections, one file per z, in a folder or on an object store: grey PNG or TIFF
// images, or HDF5 files (the aligned sections of seed 003). Found in a folder (ordered by the
// number in each name, all one size, at 0,0) or listed in a registry (registry.ts: in the order
// listed, each placed at its offset in the aligned space, any size). The stack's bounds are the
// union of its sections' boxes; what no section covers reads as zero.
//
// Images are read a region at a time through codecs/image.ts: libvips opens a local section itself
// and reads only what it needs; a section on S3 or GCS comes whole through the Store (a PNG's
// header alone, from its first bytes). HDF5 sections are read through formats/hdf5 (libhdf5 in
// WebAssembly): only the rows and columns asked for, from a local file or, on S3 or GCS, through
// byte-range reads of the object.
import { availableParallelism } from 'node:os';
import { boxShape, intersectBoxes } from '../arrays/box.ts';
import type { Box, Vec3 } from '../arrays/box.ts';
import { allocateVoxels, bytesOfVoxels, bytesPerVoxel } from '../arrays/voxels.ts';
import type { VoxelArray } from '../arrays/voxels.ts';
import { decodeGrey, readImageHeader } from '../codecs/image.ts';
import type { GreyPixels, ImageHeader, ImageInput } from '../codecs/image.ts';
import { FerryError } from '../errors.ts';
import { probeDataset, readDatasetRegion } from '../formats/hdf5/reader.ts';
import type { DatasetHeader, Hdf5Source } from '../formats/hdf5/reader.ts';
import { joinLocation, localPath, resolveLocation, splitLocation } from '../storage/location.ts';
import type { FolderStores, StoreFile, StoreFolder } from '../storage/location.ts';
import type { Store } from '../storage/store.ts';
import { mapLimited } from '../map-limited.ts';
import { parseRegistry, SECTION_DATASET } from './registry.ts';
import type { Placement, SectionFormat } from './registry.ts';

const SECTION_FILE = /\.(png|tiff?)$/i;
/** Bytes of an object read for a PNG's header: IHDR comes first, a palette or text chunks soon after. */
const HEADER_BYTES = 64 * 1024;

/** What reading sections needs of a Store. */
export type SectionStore = Pick<Store, 'url' | 'capabilities' | 'list' | 'stat' | 'readBytes'>;

export type Section = StoreFile<SectionStore>;

/** A section as listed, before its header is read. */
export interface SectionEntry {
  file: Section;
  format: SectionFormat;
  /** Where a registry places it; a folder's sections (and a plain list's) lie at 0,0. */
  placement?: Placement;
  /** The registry line that lists it, for messages. */
  line?: number;
}

export interface StackSection extends SectionEntry {
  /** Its box in the stack's x and y (aligned coordinates). */
  box: Placement;
}

export type GreyType = 'uint8' | 'uint16';

export interface SectionStack {
  /** One entry per z from 0; null where no section is (zeros). */
  sections: (StackSection | null)[];
  /** The union of the sections' boxes; z from 0 to the number of entries. */
  bounds: Box;
  dataType: GreyType;
  /** z of listed sections whose files were missing when planned, read as zeros (--fill-gaps). */
  missing: number[];
}

export interface SectionListOptions {
  /** Write zeros for sections that are missing (a gap in a folder's numbering, a file a registry names) instead of failing. */
  fillGaps?: boolean;
}

/** How messages name a section: its file, and the registry line that lists it. */
export function sectionLabel(e: Pick<SectionEntry, 'file' | 'line'>): string {
  return e.line === undefined ? e.file.name : `${e.file.name} (registry line ${e.line})`;
}

/** The number a section's name is ordered by: the last run of digits in it. */
export function sectionNumber(name: string): number | undefined {
  const runs = name.slice(name.lastIndexOf('/') + 1).replace(SECTION_FILE, '').match(/\d+/g);
  return runs ? Number(runs[runs.length - 1]) : undefined;
}

/** Sections of a folder's stack, in z order, with null for gaps when they are allowed. */
export async function listSectionFolder(folder: StoreFolder<SectionStore>, opts: SectionListOptions = {}): Promise<(SectionEntry | null)[]> {
  const dir = folder.name;
  const names: string[] = [];
  try {
    for await (const o of folder.store.list('', { delimiter: true })) if (SECTION_FILE.test(o.key)) names.push(o.key);
  } catch (e) {
    throw new FerryError(`cannot list sections in ${dir}: ${(e as Error).message}`, { hint: 'give a folder of PNG or TIFF sections, or a registry file' });
  }
  if (names.length === 0) throw new FerryError(`no PNG or TIFF sections in ${dir}`, { hint: 'section files end in .png, .tif or .tiff; HDF5 sections are listed in a registry file' });
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
  const sections: (SectionEntry | null)[] = [];
  const missing: number[] = [];
  for (let n = first; n <= last; n++) {
    const key = byNumber.get(n);
    if (key === undefined) missing.push(n);
    sections.push(key === undefined ? null : { file: { store: folder.store, key, name: joinLocation(dir, key) }, format: 'image' });
  }
  if (missing.length > 0 && !opts.fillGaps) {
    const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, ... (${missing.length} in all)` : '');
    throw new FerryError(`the sections in ${dir} skip number(s) ${shown} between ${first} and ${last}`, {
      hint: 'add the missing sections, or pass --fill-gaps to write zeros for them',
    });
  }
  return sections;
}

/** Sections listed in a registry (registry.ts), in z order; each file's folder is opened through `stores`. */
export async function listSectionRegistry(registry: StoreFile<SectionStore>, stores: FolderStores): Promise<SectionEntry[]> {
  let text: string;
  try {
    text = (await registry.store.readBytes(registry.key)).toString('utf8');
  } catch (e) {
    throw new FerryError(`cannot read the registry ${registry.name}: ${(e as Error).message}`, { hint: 'check the path of the registry file' });
  }
  const base = splitLocation(registry.name).folder;
  const entries = parseRegistry(text, registry.name);
  return Promise.all(
    entries.map(async (e) => ({ file: await stores.file(resolveLocation(base, e.file)), format: e.format, placement: e.placement, line: e.line })),
  );
}

interface SectionHeader {
  width: number;
  height: number;
  dataType: GreyType;
}

/** What libvips reads a section from: the local file, or the object's bytes (`range` of them). */
async function sectionInput(section: Section, range?: { start: number; end: number }): Promise<ImageInput> {
  return localPath(section.store, section.key) ?? section.store.readBytes(section.key, range);
}

/** What libhdf5 reads a section from: the local file, or byte ranges of the object. */
async function hdf5Input(e: SectionEntry): Promise<Hdf5Source> {
  const { store, key } = e.file;
  const path = localPath(store, key);
  if (path) return { path };
  const info = await store.stat(key);
  if (!info) throw new FerryError(`section ${sectionLabel(e)} does not exist`, { hint: 'restore it, or plan again' });
  return { size: info.size, readRange: (start, end) => store.readBytes(key, { start, end }) };
}

/** A section's header, from its first bytes when they hold it (a PNG on an object store). */
async function sectionHeader(e: SectionEntry): Promise<SectionHeader> {
  if (e.format === 'hdf5') {
    let h: DatasetHeader;
    try {
      h = await probeDataset(await hdf5Input(e), SECTION_DATASET);
    } catch (err) {
      throw hdf5Failure(e, err);
    }
    return hdf5HeaderOf(e, h);
  }
  const input = await sectionInput(e.file, { start: 0, end: HEADER_BYTES });
  // A TIFF's directory may be anywhere in the file (libvips writes it last): it is read whole.
  const whole = typeof input !== 'string' && (await readImageHeader(input).catch(() => undefined))?.format !== 'png';
  return imageHeaderOf(e, whole ? await sectionInput(e.file) : input);
}

function hdf5Failure(e: SectionEntry, err: unknown): FerryError {
  if (err instanceof FerryError) return err;
  return new FerryError(`section ${sectionLabel(e)} ${(err as Error).message}`, { hint: 'replace the file (it may be truncated, or written with a filter other than gzip or shuffle)' });
}

/** Checks that an HDF5 section is a 2D dataset of 8- or 16-bit grey that Ferry can ingest. */
function hdf5HeaderOf(e: SectionEntry, h: DatasetHeader): SectionHeader {
  const file = sectionLabel(e);
  if (h.shape.length !== 2) {
    throw new FerryError(`section ${file} has a dataset '${SECTION_DATASET}' of shape [${h.shape.join(', ')}]; Ferry reads 2D sections (rows along y, columns along x)`, {
      hint: 'write each section as a 2D dataset',
    });
  }
  if (h.dtype !== 'uint8' && h.dtype !== 'uint16') {
    throw new FerryError(`section ${file} holds ${h.dtype} samples; Ferry ingests unsigned 8- and 16-bit grey`, { hint: 'convert it to uint8 or uint16' });
  }
  return { width: h.shape[1], height: h.shape[0], dataType: h.dtype };
}

/** Reads the header from `input` and checks that Ferry can ingest such a section. */
async function imageHeaderOf(e: SectionEntry, input: ImageInput): Promise<SectionHeader> {
  const file = sectionLabel(e);
  let meta: ImageHeader;
  try {
    meta = await readImageHeader(input);
  } catch (err) {
    throw new FerryError(`section ${file} is not a readable image: ${(err as Error).message}`, { hint: 'replace or remove the file' });
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

function sizeDiffers(e: SectionEntry, h: SectionHeader): FerryError {
  const p = e.placement!;
  return new FerryError(`section ${sectionLabel(e)} is ${h.width}x${h.height} pixels, but the registry says ${p.width}x${p.height}`, {
    hint: 'correct xdim and ydim on its registry line, or replace the file',
  });
}

/** The union of the sections' boxes in x and y, z over every entry. */
function stackBounds(sections: (StackSection | null)[]): Box {
  const bounds: Box = { start: [Infinity, Infinity, 0], end: [-Infinity, -Infinity, sections.length] };
  for (const s of sections) {
    if (!s) continue;
    bounds.start[0] = Math.min(bounds.start[0], s.box.x);
    bounds.start[1] = Math.min(bounds.start[1], s.box.y);
    bounds.end[0] = Math.max(bounds.end[0], s.box.x + s.box.width);
    bounds.end[1] = Math.max(bounds.end[1], s.box.y + s.box.height);
  }
  return bounds;
}

/**
 * Reads every section's header and checks they fit together: one pixel type; one size for
 * sections no registry places; the size a registry gives for those it places. With `fillGaps`, a
 * registry's section whose file does not exist is left out (zeros) and its z noted.
 */
export async function probeStack(entries: (SectionEntry | null)[], opts: SectionListOptions = {}): Promise<SectionStack> {
  const exists = await mapLimited(entries, availableParallelism() * 4, async (e) => {
    // A folder's sections were listed, so they exist; a registry's are only named.
    if (!e || e.line === undefined) return true;
    return (await e.file.store.stat(e.file.key)) !== undefined;
  });
  const missing = entries.flatMap((e, z) => (e && !exists[z] ? [z] : []));
  if (missing.length > 0 && !opts.fillGaps) {
    const names = missing.slice(0, 3).map((z) => sectionLabel(entries[z]!));
    throw new FerryError(`section ${names.join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''} ${missing.length === 1 ? 'does' : 'do'} not exist`, {
      hint: 'restore the file(s) or correct the registry, or pass --fill-gaps to write zeros for them',
    });
  }
  const present = entries.map((e, z) => (exists[z] ? e : null));
  const listed = present.filter((e): e is SectionEntry => e !== null);
  if (listed.length === 0) throw new FerryError('none of the sections exists', { hint: 'check the registry and where its files are' });
  const headers = await mapLimited(listed, availableParallelism() * 2, sectionHeader);
  const first = headers[0];
  headers.forEach((h, i) => {
    const e = listed[i];
    if (h.dataType !== first.dataType) {
      throw new FerryError(`section ${sectionLabel(e)} is ${h.dataType}, but ${sectionLabel(listed[0])} is ${first.dataType}`, {
        hint: 'every section of a stack must have the same pixel type: convert the odd ones',
      });
    }
    if (e.placement && (h.width !== e.placement.width || h.height !== e.placement.height)) throw sizeDiffers(e, h);
    if (!e.placement && (h.width !== first.width || h.height !== first.height)) {
      throw new FerryError(`section ${sectionLabel(e)} is ${h.width}x${h.height}, but ${sectionLabel(listed[0])} is ${first.width}x${first.height}`, {
        hint: 'every section of a stack must have the same size: crop or pad the odd ones, or place each in a registry with its offsets',
      });
    }
  });
  // Unplaced sections all have the first one's size (checked above).
  const sections = present.map((e) => (e ? { ...e, box: e.placement ?? { x: 0, y: 0, width: first.width, height: first.height } } : null));
  return { sections, bounds: stackBounds(sections), dataType: first.dataType, missing };
}

/**
 * The stack as planned, without reading a header: placements from the registry, or the planned
 * size for unplaced sections; the planned gaps as zeros. Every read checks its section's header.
 */
export function plannedStack(entries: (SectionEntry | null)[], planned: { bounds: Box; dataType: GreyType; missing: number[] }): SectionStack {
  const [w, h] = boxShape(planned.bounds);
  const missing = new Set(planned.missing);
  const sections = entries.map((e, z) => (e && !missing.has(z) ? { ...e, box: e.placement ?? { x: 0, y: 0, width: w, height: h } } : null));
  return { sections, bounds: stackBounds(sections), dataType: planned.dataType, missing: planned.missing };
}

/**
 * Voxels of `box` (stack coordinates: x and y aligned, z the entry's index), x fastest, into
 * `into` when given (a reused buffer of the box's size) or a new array; zeros where no section is.
 * Sections are read in parallel (images on sharp's threads, HDF5 on the reader's), each checked
 * against the stack's header.
 */
export async function readSections(stack: SectionStack, box: Box, into?: VoxelArray): Promise<VoxelArray> {
  const [sx, sy, sz] = boxShape(box);
  const out = into ?? allocateVoxels(stack.dataType, sx * sy * sz);
  if (out.length !== sx * sy * sz) throw new FerryError(`a buffer of ${out.length} voxels cannot hold ${sx}x${sy}x${sz}`);
  const bytes = bytesOfVoxels(out);
  const bpv = bytesPerVoxel(stack.dataType);
  const plane = sx * sy * bpv;
  const zs = Array.from({ length: sz }, (_, i) => box.start[2] + i);
  const planeBox = (z: number): Box => ({ start: [box.start[0], box.start[1], z], end: [box.end[0], box.end[1], z + 1] });
  // One more read than cores, so a core is not left idle while a finished one is copied.
  await mapLimited(zs, availableParallelism() + 1, async (z) => {
    const at = (z - box.start[2]) * plane;
    const section = stack.sections[z] ?? null;
    const part = section && intersectBoxes(planeBox(z), { start: [section.box.x, section.box.y, z], end: [section.box.x + section.box.width, section.box.y + section.box.height, z + 1] });
    // A reused buffer holds another slab's voxels: what no section covers must be zeroed, not skipped.
    if (!section || !part) return void bytes.fill(0, at, at + plane);
    const [pw, ph] = boxShape(part);
    const local: Vec3 = [part.start[0] - section.box.x, part.start[1] - section.box.y, 0];
    const { pixels, release } = await readSectionRegion(section, stack, local, [pw, ph, 1]);
    if (pw === sx && ph === sy) bytes.set(pixels, at);
    else {
      bytes.fill(0, at, at + plane);
      const row = pw * bpv;
      const dx = part.start[0] - box.start[0];
      const dy = part.start[1] - box.start[1];
      for (let r = 0; r < ph; r++) bytes.set(pixels.subarray(r * row, (r + 1) * row), at + ((dy + r) * sx + dx) * bpv);
    }
    release();
  });
  return out;
}

/**
 * Frees a decoded section now rather than at V8's next full collection, which may be many
 * sections away: the decoder's memory goes straight back to the allocator for the next one,
 * instead of each section landing in fresh pages (a fault per 4 KiB) while dead ones pile up.
 * Detaching the buffer drops sharp's memory; a buffer that cannot be detached is left to the GC.
 */
function releaseDecoded(b: Buffer): void {
  if (b.byteOffset !== 0 || b.buffer.byteLength !== b.byteLength) return;
  try {
    (b.buffer as ArrayBuffer).transfer(0);
  } catch {
    // not detachable: collected in the ordinary way
  }
}

function changed(section: StackSection, stack: SectionStack, now: string): FerryError {
  return new FerryError(`section ${sectionLabel(section)} is now ${now}; the plan expected ${section.box.width}x${section.box.height} ${stack.dataType}`, {
    hint: 'the file changed since the plan: restore it, or plan again into a new destination',
  });
}

/** Pixels read from a section, and how to give back their memory once they are copied out. */
interface SectionPixels {
  pixels: Uint8Array;
  release(): void;
}

/** The region's pixels (`start` and `shape` in the section's own pixels) as little-endian bytes. */
async function readSectionRegion(section: StackSection, stack: SectionStack, start: Vec3, shape: Vec3): Promise<SectionPixels> {
  if (section.format === 'hdf5') return readHdf5Region(section, stack, start, shape);
  const file = sectionLabel(section);
  const input = await sectionInput(section.file);
  const header = await imageHeaderOf(section, input);
  if (header.width !== section.box.width || header.height !== section.box.height || header.dataType !== stack.dataType) {
    throw changed(section, stack, `${header.width}x${header.height} ${header.dataType}`);
  }
  let decoded: GreyPixels;
  try {
    const whole = start[0] === 0 && start[1] === 0 && shape[0] === header.width && shape[1] === header.height;
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
  return { pixels: data, release: () => releaseDecoded(data) };
}

async function readHdf5Region(section: StackSection, stack: SectionStack, start: Vec3, shape: Vec3): Promise<SectionPixels> {
  let r;
  try {
    r = await readDatasetRegion(await hdf5Input(section), SECTION_DATASET, { x: start[0], y: start[1], width: shape[0], height: shape[1] });
  } catch (e) {
    throw hdf5Failure(section, e);
  }
  const h = r.header;
  if (h.shape.length !== 2 || h.shape[0] !== section.box.height || h.shape[1] !== section.box.width || h.dtype !== stack.dataType || !r.data) {
    throw changed(section, stack, h.shape.length === 2 ? `${h.shape[1]}x${h.shape[0]} ${h.dtype}` : `a dataset of shape [${h.shape.join(', ')}] ${h.dtype}`);
  }
  return { pixels: r.data, release: r.release };
}
