// Plans the InLens conversion of a tab as `fibsem.convert` jobs: every `.dat` in the archive or the
// transferred folder whose PNG is missing, in batches of consecutive tiles (the archive copy when
// both have it). Keys name the batch's first tile and size, so planning the same state twice adds
// nothing; once tiles are converted they are no longer planned at all.
import { join } from 'node:path';
import type { JobSpec } from '../../ledger/engine.ts';
import { listFolderNames } from '../../inventory/list-folder.ts';
import { DAT_SUFFIX, INLENS_SUFFIX, coreName } from '../../formats/fibsem/names.ts';
import type { Tab } from './tab.ts';
import { CONVERT_JOB } from './kinds.ts';


/** A batch of consecutive tiles: their .dat files, and where their PNGs and logs go. */
export interface ConvertJobParams {
  /** Paths or store URLs of the .dat files. */
  dats: string[];
  pngDir: string;
  logDir: string;
  /** Options of the stores named by URL. */
  store?: Record<string, unknown>;
}

export function convertRunName(tab: Tab): string {
  return `fibsem-${tab.tab}-inlens`;
}

export async function planConvertJobs(tab: Tab, batch: number): Promise<{ jobs: JobSpec[]; tiles: number }> {
  const f = tab.folders;
  const [png, archive, transferred] = await Promise.all([
    listFolderNames(f.inLensPng, 'folders.inLensPng'),
    listFolderNames(f.archiveDat, 'folders.archiveDat'),
    listFolderNames(f.transferredDat, 'folders.transferredDat'),
  ]);
  const have = new Set(png.map((n) => coreName(n, INLENS_SUFFIX)));
  const source = new Map<string, string>();
  for (const [dir, names] of [[f.transferredDat, transferred], [f.archiveDat, archive]] as const) {
    for (const n of names) {
      const core = coreName(n, DAT_SUFFIX);
      if (core !== undefined && !have.has(core)) source.set(core, join(dir, n));
    }
  }
  const cores = [...source.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const jobs: JobSpec[] = [];
  for (let i = 0; i < cores.length; i += batch) {
    const part = cores.slice(i, i + batch);
    const params: ConvertJobParams = { dats: part.map((c) => source.get(c)!), pngDir: f.inLensPng, logDir: f.logs };
    jobs.push({ kind: CONVERT_JOB, key: `inlens/${part[0]}+${part.length}`, params });
  }
  return { jobs, tiles: cores.length };
}
