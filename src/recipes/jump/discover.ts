// Finds the plates of a JUMP segmentation run: every source_N / batch / plate folder that holds
// <plate>.zarr, as the lab's 01_extract_joblist script did, with what was skipped and why.
import { opendir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { matchesGlob } from 'node:path';
import { FerryError } from '../../errors.ts';

export interface Plate {
  source: string;
  batch: string;
  plate: string;
  /** Absolute path of the plate folder (the one holding <plate>.zarr). */
  dir: string;
  /** The plate folder's path from the gallery dataset folder on (cpg0016-jump/source_8/...). */
  galleryPath: string;
}

export interface Discovery {
  sources: { source: string; batches: { batch: string; plates: number }[] }[];
  plates: Plate[];
  skipped: { path: string; reason: string }[];
}

export interface LayoutOptions {
  /** Glob, relative to the results folder, of the folders that hold source_N (default: found at any depth). */
  sourcesUnder?: string;
  /** Glob, relative to source_N, of the folder that holds the batches. */
  batchesUnder?: string;
  /** Name of the gallery dataset folder that destination keys start from. */
  dataset?: string;
}

export const DEFAULT_BATCHES_UNDER = 'workspace/segmentation/*/objects';
const SOURCE_RE = /^source_\d+$/;
const MAX_DEPTH = 10;

export async function discoverPlates(results: string, layout: LayoutOptions = {}): Promise<Discovery> {
  const s = await stat(results).catch(() => undefined);
  if (!s) throw new FerryError(`results folder ${results} does not exist`, { hint: 'pass the folder that holds the source_N folders with --results' });
  if (!s.isDirectory()) throw new FerryError(`${results} is not a folder`, { hint: 'pass the results folder with --results' });
  const dataset = layout.dataset ?? 'cpg0016-jump';
  const out: Discovery = { sources: [], plates: [], skipped: [] };
  const sourceDirs = await findDirs(results, (rel, name) => SOURCE_RE.test(name) && (!layout.sourcesUnder || matchesGlob(parentOf(rel), layout.sourcesUnder)));
  for (const sourceDir of sourceDirs.sort()) {
    const source = sourceDir.split(sep).pop()!;
    const batchesUnder = layout.batchesUnder ?? DEFAULT_BATCHES_UNDER;
    const holders = await findDirs(sourceDir, (rel) => matchesGlob(rel, batchesUnder), batchesUnder.split('/').length);
    const batches: { batch: string; plates: number }[] = [];
    for (const holder of holders.sort()) {
      for (const batch of await subdirs(holder)) {
        let count = 0;
        for (const plate of await subdirs(join(holder, batch))) {
          const dir = join(holder, batch, plate);
          const zarr = await stat(join(dir, `${plate}.zarr`)).catch(() => undefined);
          if (!zarr?.isDirectory()) {
            out.skipped.push({ path: dir, reason: `no ${plate}.zarr folder` });
            continue;
          }
          out.plates.push({ source, batch, plate, dir, galleryPath: galleryPath(results, dir, dataset) });
          count++;
        }
        batches.push({ batch, plates: count });
      }
    }
    out.sources.push({ source, batches });
  }
  if (out.sources.length === 0) {
    throw new FerryError(`no source_N folders under ${results}`, { hint: 'check --results (and --sources-under if the layout differs)' });
  }
  return out;
}

function galleryPath(results: string, dir: string, dataset: string): string {
  const parts = relative(results, dir).split(sep);
  const i = parts.indexOf(dataset);
  return (i >= 0 ? parts.slice(i) : parts).join('/');
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

async function subdirs(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of await opendir(dir)) if (e.isDirectory() && !e.name.startsWith('.')) names.push(e.name);
  return names.sort();
}

/** Folders below root whose relative path satisfies `want`; does not descend into a match. */
async function findDirs(root: string, want: (rel: string, name: string) => boolean, maxDepth = MAX_DEPTH): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number) => {
    if (depth > maxDepth) return;
    for (const name of await subdirs(dir)) {
      const p = join(dir, name);
      const rel = relative(root, p).split(sep).join('/');
      if (want(rel, name)) found.push(p);
      else if (!name.endsWith('.zarr')) await walk(p, depth + 1);
    }
  };
  await walk(root, 1);
  return found;
}
