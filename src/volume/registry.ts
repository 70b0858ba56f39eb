// The registry of an aligned stack, as the seunglab registration pipeline leaves it and ChunkFlow
// reads it through BigArrays.jl's AlignedBigArray (seung-lab/BigArrays.jl, src/backends/aligned.jl
// at 1b9126d): one section a line, in z order, fields separated by white space, either
//   name 0 xoff yoff xdim ydim tf     (7 fields; the second and the last are not used)
//   name xoff yoff xdim ydim tf       (6 fields)
// The section is the HDF5 file `<name>.h5` beside the registry, dataset `img`, xdim x ydim pixels
// whose first pixel lies at (xoff, yoff) of the aligned space: BigArrays reads 1-based aligned
// index i from section index i - xoff, so 0-based pixel p of the section is at xoff + p. Line n
// (from 1) is z = n - 1. Ferry also takes a name that already ends in .h5, .hdf5, .png, .tif or
// .tiff as the file itself (PNG and TIFF sections placed the same way), its own older form of one
// file a line (sections unplaced, all one size, at 0,0), blank lines and '#' comments; any other
// line is an error naming it, where BigArrays stops with "unsupported format of register file".
import { FerryError } from '../errors.ts';

export type SectionFormat = 'hdf5' | 'image';

export interface Placement {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface RegistryEntry {
  /** Line of the registry file, from 1. */
  line: number;
  /** The file, as written or with `.h5` added: a path or URL relative to the registry's folder. */
  file: string;
  format: SectionFormat;
  /** Where the registry places the section; absent in the one-file-a-line form. */
  placement?: Placement;
}

/** The dataset of a section's HDF5 file (BigArrays.jl's H5_DATASET_NAME). */
export const SECTION_DATASET = 'img';

const IMAGE = /\.(png|tiff?)$/i;
const HDF5 = /\.(h5|hdf5)$/i;
const FORMS =
  'each line is `name xoff yoff xdim ydim tf` or `name 0 xoff yoff xdim ydim tf` (the aligned form, name.h5 beside the registry), ' +
  'or a single file name (the plain list)';

function fileOf(name: string): { file: string; format: SectionFormat } {
  if (IMAGE.test(name)) return { file: name, format: 'image' };
  return { file: HDF5.test(name) ? name : `${name}.h5`, format: 'hdf5' };
}

export function parseRegistry(text: string, where: string): RegistryEntry[] {
  const entries: RegistryEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const fields = lines[i].replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
    if (fields.length === 0) continue;
    const bad = (why: string) =>
      new FerryError(`line ${line} of the registry ${where} ${why}: "${lines[i].trim()}"`, { hint: FORMS, kind: 'config' });
    if (fields.length === 1) {
      entries.push({ line, ...fileOf(fields[0]) });
      continue;
    }
    if (fields.length !== 6 && fields.length !== 7) throw bad(`has ${fields.length} fields, not 6 or 7 (or 1)`);
    const numbers = fields.length === 7 ? fields.slice(1, 6) : fields.slice(1, 5);
    if (numbers.some((f) => !/^[+-]?\d+$/.test(f))) throw bad('has a field that is not a whole number where the offsets and sizes go');
    const [xoff, yoff, xdim, ydim] = numbers.slice(-4).map(Number);
    if (!(xdim > 0 && ydim > 0)) throw bad(`gives a section of ${xdim}x${ydim} pixels`);
    if (![xoff, yoff, xdim, ydim].every(Number.isSafeInteger)) throw bad('has a number too large to be a pixel coordinate');
    entries.push({ line, ...fileOf(fields[0]), placement: { x: xoff, y: yoff, width: xdim, height: ydim } });
  }
  if (entries.length === 0) throw new FerryError(`the registry ${where} lists no sections`, { hint: FORMS, kind: 'config' });
  const other = entries.find((e) => !e.placement !== !entries[0].placement);
  if (other) {
    throw new FerryError(
      `line ${other.line} of the registry ${where} ${other.placement ? 'places its section' : 'names only a file'}, but line ${entries[0].line} ${entries[0].placement ? 'places its section' : 'names only a file'}`,
      { hint: 'give every line the offsets and size of its section, or none of them', kind: 'config' },
    );
  }
  return entries;
}
