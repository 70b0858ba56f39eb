// What uploading the chosen products of one sample means, as a list of copy operations: each is
// one `transfer.sync` job (a folder synced, or named files copied). Everything a user can get
// wrong is found here, before a single job exists: a sample in no image folder, tiles under the
// obsolete naming scheme, a product folder that is not there.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../../errors.ts';
import { childFolder } from '../../storage/keys.ts';
import { expand, usesSubfolder } from './layout.ts';
import type { MouselightLayout, ProductSource } from './layout.ts';
import { mmdd } from './sample-date.ts';

/** The tile folder of a sample, synced as a whole. */
export const TILE_FOLDER = 'ktx';
/** Present in every tile folder written under the current naming scheme. */
export const CURRENT_NAMING_MARKER = 'block_8_xy_.ktx';
/** Copied one by one from the image base folder, next to the tile folder. */
export const IMAGE_FILES = ['default.0.tif', 'default.1.tif', 'tilebase.cache.yml', 'transform.txt'];

export interface UploadOp {
  product: string;
  /** The ledger job key, unique within the sample's run. */
  key: string;
  /** Absolute source folder. */
  src: string;
  /** Destination prefix as a store URL, ending in '/'. */
  dst: string;
  /** Only these files of `src` are copied; undefined: the whole folder is synced. */
  files?: string[];
  /** Runs on Slurm / LSF workers with --submit. */
  cluster: boolean;
}

export interface UploadRequest {
  date: string;
  products: string[];
  /** Sub-folders for the sources whose template has {subfolder} (segmentation). */
  subfolders?: string[];
}

export interface UploadPlan {
  date: string;
  ops: UploadOp[];
  /** Things the facility's own script also only warned about: an optional source that is absent. */
  warnings: string[];
}

export function productNames(layout: MouselightLayout): string[] {
  return ['images', ...Object.keys(layout.products)];
}

export function needsSubfolder(layout: MouselightLayout, products: string[]): boolean {
  return products.some((p) => (layout.products[p] ?? []).some(usesSubfolder));
}

export async function planUpload(layout: MouselightLayout, req: UploadRequest): Promise<UploadPlan> {
  const known = productNames(layout);
  const unknown = req.products.filter((p) => !known.includes(p));
  if (unknown.length) {
    throw new FerryError(`unknown product ${unknown.join(', ')}`, { hint: `the layout has: ${known.join(', ')}` });
  }
  if (req.products.length === 0) throw new FerryError('no products chosen', { hint: `choose some of: ${known.join(', ')}` });
  for (const s of req.subfolders ?? []) {
    if (!/^[\w.-]+(\/[\w.-]+)*$/.test(s) || s.split('/').some((p) => p === '..' || p === '.')) {
      throw new FerryError(`"${s}" is not a sub-folder name`, { hint: 'give a folder below the sample folder, e.g. stitching-output' });
    }
  }
  const plan: UploadPlan = { date: req.date, ops: [], warnings: [] };
  const values = { date: req.date, mmdd: mmdd(req.date) };
  const cluster = new Set(layout.cluster.products);
  for (const product of known.filter((p) => req.products.includes(p))) {
    if (product === 'images') await planImages(layout, plan, values, cluster.has('images'));
    else await planProduct(layout, plan, product, layout.products[product], req.subfolders ?? [], values, cluster.has(product));
  }
  return plan;
}

async function planImages(layout: MouselightLayout, plan: UploadPlan, values: { date: string; mmdd: string }, cluster: boolean): Promise<void> {
  const bases = layout.images.bases.map((b) => folder(expand(b, values)));
  let base: string | undefined;
  for (const b of bases) if (await isDirectory(b)) { base = b; break; }
  if (!base) {
    throw new FerryError(`sample ${plan.date} is in none of the image folders (${bases.join(', ')})`, {
      hint: 'check the date, or add the folder that holds it to images.bases in the layout',
    });
  }
  const tiles = path.join(base, TILE_FOLDER);
  if (!(await isDirectory(tiles))) {
    throw new FerryError(`${base} has no ${TILE_FOLDER}/ folder`, { hint: 'the sample is incomplete or still being rendered; nothing was uploaded' });
  }
  if (!(await readdir(tiles)).includes(CURRENT_NAMING_MARKER)) {
    throw new FerryError(`image files under ${base} use an obsolete naming scheme (${tiles} has no ${CURRENT_NAMING_MARKER})`, {
      hint: 'convert the tiles to the current naming scheme before uploading; nothing was uploaded',
    });
  }
  const dst = bucketUrl(layout.bucket, expand(layout.images.destination, values));
  plan.ops.push({ product: 'images', key: 'images/ktx', src: tiles, dst: `${dst}${TILE_FOLDER}/`, cluster });
  const present: string[] = [];
  for (const f of IMAGE_FILES) {
    if (await isFile(path.join(base, f))) present.push(f);
    else plan.warnings.push(`${path.join(base, f)} does not exist; not uploaded`);
  }
  if (present.length) plan.ops.push({ product: 'images', key: 'images/files', src: base, dst, files: present, cluster });
}

async function planProduct(
  layout: MouselightLayout,
  plan: UploadPlan,
  product: string,
  sources: ProductSource[],
  subfolders: string[],
  values: { date: string; mmdd: string },
  cluster: boolean,
): Promise<void> {
  const candidates: { key: string; src: string; dst: string }[] = [];
  sources.forEach((s, i) => {
    const label = s.name ?? (sources.length > 1 ? String(i + 1) : '');
    const dst = bucketUrl(layout.bucket, expand(s.destination, values));
    if (!usesSubfolder(s)) {
      candidates.push({ key: [product, label].filter(Boolean).join('/'), src: folder(expand(s.source, values)), dst });
      return;
    }
    if (subfolders.length === 0) {
      throw new FerryError(`${product} needs a sub-folder of ${expand(s.source.slice(0, s.source.indexOf('{subfolder}')), values)}`, {
        hint: 'name it with --subfolder, e.g. --subfolder stitching-output',
      });
    }
    for (const sub of subfolders) {
      candidates.push({ key: [product, label, sub].filter(Boolean).join('/'), src: folder(expand(s.source, { ...values, subfolder: sub })), dst });
    }
  });
  const found: typeof candidates = [];
  const missing: string[] = [];
  for (const c of candidates) {
    if (await isDirectory(c.src)) found.push(c);
    else missing.push(c.src);
  }
  if (found.length === 0) {
    throw new FerryError(`no ${product} folder for sample ${plan.date}: ${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist`, {
      hint: `check the date, or leave ${product} out of --products; nothing was uploaded`,
    });
  }
  for (const m of missing) plan.warnings.push(`${m} does not exist; that part of ${product} is not uploaded`);
  for (const c of found) plan.ops.push({ product, key: c.key, src: c.src, dst: c.dst, cluster });
}

function bucketUrl(bucket: string, prefix: string): string {
  return childFolder(bucket, prefix, 'the destination');
}

/** Without the trailing slash a template may carry, so that joined paths read cleanly. */
function folder(p: string): string {
  return p.replace(/\/+$/, '') || '/';
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isFile() ?? false;
}
