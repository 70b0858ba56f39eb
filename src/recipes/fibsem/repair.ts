// `ferry fibsem repair`: what 03_fetch_missing_dat.sh and 04_gen_missing_png.sh do by hand, in
// parallel. From a check it plans, per tile: fetch the `.dat` from the scope into the archive (if no
// stage has it), copy it from the transferred folder into the archive (if only that has it), and
// convert it to the InLens PNG and log (if the PNG is missing); each tile is a `fibsem.repair` job
// (repair-job.ts). Files only ever get added: the scope is only read, existing stage files are
// never replaced, and bad copies go to quarantine.
import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, stopsEverything } from '../../errors.ts';
import { convertDatToInLensPng } from '../../formats/fibsem/convert.ts';
import { DAT_SUFFIX } from '../../formats/fibsem/names.ts';
import { namesOf } from '../../inventory/name-list.ts';
import { scopePathsOf } from '../../inventory/scope-listing.ts';
import { fetchOverSsh } from '../../inventory/ssh-fetch.ts';
import type { SshTarget } from '../../inventory/ssh.ts';
import type { JobSpec } from '../../ledger/engine.ts';
import { FolderStores } from '../../storage/location.ts';
import type { TabCheck } from './check.ts';
import { admitDat } from './dat-intake.ts';
import type { Tab } from './tab.ts';
import { REPAIR_JOB } from './kinds.ts';


export interface RepairStep {
  core: string;
  /** Where the archive copy comes from, when the archive lacks it. */
  fetch?: { from: 'scope' | 'transferred'; path: string };
  /** The `.dat` to convert when the InLens PNG is missing. */
  convert?: string;
}

export function planRepair(tab: Tab, check: TabCheck): RepairStep[] {
  const steps = new Map<string, RepairStep>();
  const step = (core: string) => steps.get(core) ?? steps.set(core, { core }).get(core)!;
  const archived = (core: string) => join(tab.folders.archiveDat, core + DAT_SUFFIX);
  const scopePaths = scopePathsOf(check.scopeListing, check.report.missingDat);
  const inArchiveFolder = new Set(namesOf(check.archive));
  for (const core of check.report.missingDat) {
    const path = scopePaths.get(core);
    if (path !== undefined) step(core).fetch = { from: 'scope', path };
  }
  for (const core of check.report.unarchivedDat) {
    step(core).fetch = { from: 'transferred', path: join(tab.folders.transferredDat, core + DAT_SUFFIX) };
  }
  for (const core of check.report.missingInLensPng) {
    const s = step(core);
    const inArchive = s.fetch !== undefined || inArchiveFolder.has(core);
    s.convert = inArchive ? archived(core) : join(tab.folders.transferredDat, core + DAT_SUFFIX);
  }
  return [...steps.values()].sort((a, b) => (a.core < b.core ? -1 : a.core > b.core ? 1 : 0));
}

export interface StepResult {
  core: string;
  /** Set when the archive copy was written. */
  archived?: { path: string; bytes: number; from: 'scope' | 'transferred' };
  /** Set when the PNG and its log were written. */
  converted?: { png: string; log: string };
  quarantined?: { path: string; reason: string };
  /** Why this tile is still not complete. */
  error?: string;
}

export interface StepOptions {
  target: SshTarget;
  /** Aborting stops the transfer in flight (its temporary file is removed). */
  signal?: AbortSignal;
  onBytes?(n: number): void;
}

export interface RepairFolders {
  archiveDat: string;
  inLensPng: string;
  logs: string;
  quarantine: string;
}

/**
 * One tile. A tile that fails is reported in the result; a scope that cannot be reached at all
 * (wrong host, refused key) throws, since it stops every tile alike.
 */
export async function runStep(folders: RepairFolders, s: RepairStep, o: StepOptions): Promise<StepResult> {
  const stores = new FolderStores();
  try {
    return await repairTile(folders, s, o, stores);
  } finally {
    await stores.close();
  }
}

async function repairTile(folders: RepairFolders, s: RepairStep, o: StepOptions, stores: FolderStores): Promise<StepResult> {
  const r: StepResult = { core: s.core };
  if (s.fetch) {
    const name = s.core + DAT_SUFFIX;
    // A copy from the scope is staged beside its target; the transferred folder's is read as it is.
    const temp = s.fetch.from === 'scope' ? join(folders.archiveDat, `.${name}.${randomBytes(6).toString('hex')}.part`) : undefined;
    const source = s.fetch.from === 'scope' ? `${o.target.host}:${s.fetch.path}` : s.fetch.path;
    try {
      if (temp) o.onBytes?.(await fetchOverSsh(o.target, s.fetch.path, temp, o.signal));
      const file = await stores.file(temp ?? s.fetch.path);
      const intake = await admitDat(file, await stores.folder(folders.archiveDat), await stores.folder(folders.quarantine), s.core, source);
      if (!intake.ok) {
        r.quarantined = { path: intake.quarantined, reason: intake.reason };
        r.error = `quarantined: ${intake.reason}`;
        return r;
      }
      r.archived = { path: intake.path, bytes: intake.bytes, from: s.fetch.from };
    } catch (e) {
      if (stopsEverything(e) || o.signal?.aborted) throw e;
      r.error = `${s.fetch.from === 'scope' ? 'fetch' : 'archive copy'} failed: ${errorMessage(e)}`;
      return r;
    } finally {
      if (temp) await unlink(temp).catch(() => {});
    }
  }
  if (s.convert) {
    try {
      const c = await convertDatToInLensPng(await stores.file(s.convert), await stores.folder(folders.inLensPng), await stores.folder(folders.logs), { keepExisting: true });
      r.converted = { png: c.png, log: c.log };
    } catch (e) {
      r.error = `conversion failed: ${errorMessage(e)}`;
    }
  }
  return r;
}

/** The parameters of one tile's `fibsem.repair` job. */
export interface RepairParams {
  tab: string;
  step: RepairStep;
  folders: RepairFolders;
  target: SshTarget;
}

/** One job per tile, keyed by its core name; one attempt (see repair-job.ts). */
export function repairJobs(tab: Tab, steps: RepairStep[], target: SshTarget): JobSpec[] {
  const { archiveDat, inLensPng, logs, quarantine } = tab.folders;
  return steps.map((step) => {
    const params: RepairParams = { tab: tab.tab, step, folders: { archiveDat, inLensPng, logs, quarantine }, target };
    return { kind: REPAIR_JOB, key: step.core, params, maxAttempts: 1 };
  });
}

/** Human lines of what a dry run would do. */
export function describeStep(s: RepairStep, host: string, folders: Pick<RepairFolders, 'archiveDat' | 'inLensPng'>): string[] {
  const lines: string[] = [];
  if (s.fetch?.from === 'scope') lines.push(`fetch   ${host}:${s.fetch.path} -> ${join(folders.archiveDat, s.core + DAT_SUFFIX)}`);
  if (s.fetch?.from === 'transferred') lines.push(`archive ${s.fetch.path} -> ${join(folders.archiveDat, s.core + DAT_SUFFIX)}`);
  if (s.convert) lines.push(`convert ${s.convert} -> ${folders.inLensPng}/${s.core}-InLens.png (+ log)`);
  return lines;
}
