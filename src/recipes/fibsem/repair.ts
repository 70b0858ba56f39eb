// `ferry fibsem repair`: what 03_fetch_missing_dat.sh and 04_gen_missing_png.sh do by hand, in
// parallel. From a check it plans, per tile: fetch the `.dat` from the scope into the archive (if no
// stage has it), copy it from the transferred folder into the archive (if only that has it), and
// convert it to the InLens PNG and log (if the PNG is missing). Files only ever get added: the
// scope is only read, existing stage files are never replaced, and bad copies go to quarantine.
import { randomBytes } from 'node:crypto';
import { copyFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, FerryError, isFerryError } from '../../errors.ts';
import { convertDatToInLensPng } from '../../formats/fibsem/convert.ts';
import { DAT_SUFFIX } from '../../formats/fibsem/names.ts';
import { scopePathsOf } from '../../inventory/scope-listing.ts';
import { fetchOverSsh } from '../../inventory/ssh-fetch.ts';
import type { SshTarget } from '../../inventory/ssh.ts';
import { Pool } from '../../transfer/pool.ts';
import type { TabCheck } from './check.ts';
import { admitDat } from './dat-intake.ts';
import type { Tab } from './tab.ts';

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
  const archiveNames = new Set(check.archiveNames);
  for (const core of check.report.missingDat) {
    const path = scopePaths.get(core);
    if (path !== undefined) step(core).fetch = { from: 'scope', path };
  }
  for (const core of check.report.unarchivedDat) {
    step(core).fetch = { from: 'transferred', path: join(tab.folders.transferredDat, core + DAT_SUFFIX) };
  }
  for (const core of check.report.missingInLensPng) {
    const s = step(core);
    const inArchive = s.fetch !== undefined || archiveNames.has(core + DAT_SUFFIX);
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

export interface RepairOptions {
  parallel: number;
  target: SshTarget;
  /** Aborting stops the transfers in flight (their temporary files are removed) and starts no more. */
  signal?: AbortSignal;
  onResult?(r: StepResult): void;
  onBytes?(n: number): void;
}

/**
 * Runs every step, `parallel` at a time. A tile that fails is reported and the others go on; a
 * scope that cannot be reached at all (wrong host, refused key) stops the whole repair.
 */
export async function runRepair(tab: Tab, steps: RepairStep[], o: RepairOptions): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const pool = new Pool(o.parallel);
  let fatal: unknown;
  for (const s of steps) {
    if (fatal !== undefined) break;
    await pool.submit(async () => {
      if (o.signal?.aborted) fatal ??= interrupted();
      if (fatal !== undefined) return;
      try {
        const r = await runStep(tab, s, o);
        results.push(r);
        o.onResult?.(r);
      } catch (e) {
        fatal ??= e;
      }
    });
  }
  await pool.drain();
  if (o.signal?.aborted) fatal = interrupted();
  if (fatal !== undefined) throw fatal;
  return results;
}

async function runStep(tab: Tab, s: RepairStep, o: RepairOptions): Promise<StepResult> {
  const r: StepResult = { core: s.core };
  if (s.fetch) {
    const name = s.core + DAT_SUFFIX;
    const target = join(tab.folders.archiveDat, name);
    const temp = join(tab.folders.archiveDat, `.${name}.${randomBytes(6).toString('hex')}.part`);
    const source = s.fetch.from === 'scope' ? `${o.target.host}:${s.fetch.path}` : s.fetch.path;
    try {
      if (s.fetch.from === 'scope') o.onBytes?.(await fetchOverSsh(o.target, s.fetch.path, temp, o.signal));
      else await copyFile(s.fetch.path, temp);
      const intake = await admitDat(temp, target, tab.folders.quarantine, s.core, source);
      if (!intake.ok) {
        r.quarantined = { path: intake.quarantined, reason: intake.reason };
        r.error = `quarantined: ${intake.reason}`;
        return r;
      }
      r.archived = { path: intake.path, bytes: intake.bytes, from: s.fetch.from };
    } catch (e) {
      await unlink(temp).catch(() => {});
      if ((isFerryError(e) && e.exitCode === 2) || o.signal?.aborted) throw e;
      r.error = `${s.fetch.from === 'scope' ? 'fetch' : 'archive copy'} failed: ${errorMessage(e)}`;
      return r;
    }
  }
  if (s.convert) {
    try {
      const c = await convertDatToInLensPng(s.convert, tab.folders.inLensPng, tab.folders.logs, { keepExisting: true });
      r.converted = { png: c.png, log: c.log };
    } catch (e) {
      r.error = `conversion failed: ${errorMessage(e)}`;
    }
  }
  return r;
}

function interrupted(): FerryError {
  return new FerryError('repair interrupted: tiles already fetched and converted are in place, nothing is half-written', {
    hint: 'run the same repair again to finish',
    exitCode: 1,
    code: 'Interrupted',
  });
}

/** Human lines of what a dry run would do. */
export function describeStep(s: RepairStep, host: string, tab: Tab): string[] {
  const lines: string[] = [];
  if (s.fetch?.from === 'scope') lines.push(`fetch   ${host}:${s.fetch.path} -> ${join(tab.folders.archiveDat, s.core + DAT_SUFFIX)}`);
  if (s.fetch?.from === 'transferred') lines.push(`archive ${s.fetch.path} -> ${join(tab.folders.archiveDat, s.core + DAT_SUFFIX)}`);
  if (s.convert) lines.push(`convert ${s.convert} -> ${tab.folders.inLensPng}/${s.core}-InLens.png (+ log)`);
  return lines;
}
