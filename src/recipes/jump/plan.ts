// One `transfer.sync` job per plate: the plate folder to its mirror of the gallery layout under
// the destination. Planning again adds only plates the run does not have yet.
import type { JobSpec } from '../../ledger/engine.ts';
import { childFolder } from '../../storage/keys.ts';
import { definedOptions } from '../../storage/spec.ts';
import type { StoreOptions } from '../../storage/spec.ts';
import type { TransferJobParams } from '../../transfer/job.ts';
import { TRANSFER_JOB } from '../../transfer/kind.ts';
import type { Plate } from './discover.ts';

export const DEFAULT_KEY_TEMPLATE = '{gallery_path}';
/** What may appear in braces in a key template. */
export const KEY_TEMPLATE_FIELDS = ['gallery_path', 'source', 'batch', 'plate'] as const;

export interface PlanOptions {
  dest: string;
  keyTemplate?: string;
  /** Files of one plate in flight at once. */
  transfers?: number;
  store?: StoreOptions;
}

/** The job key of a plate, as the old scripts named their job files: source_8__J1__A1170383. */
export function plateKey(p: { source: string; batch: string; plate: string }): string {
  return `${p.source}__${p.batch}__${p.plate}`;
}

/** The plate's folder under the destination; throws when the template or the plate's path would leave it. */
export function plateDestination(p: Plate, opts: PlanOptions): string {
  const vars: Record<(typeof KEY_TEMPLATE_FIELDS)[number], string> = { gallery_path: p.galleryPath, source: p.source, batch: p.batch, plate: p.plate };
  const path = (opts.keyTemplate ?? DEFAULT_KEY_TEMPLATE).replace(/\{(\w+)\}/g, (_, name: keyof typeof vars) => vars[name]);
  return childFolder(opts.dest, path, `the destination of plate ${plateKey(p)}`);
}

export function plateJob(p: Plate, opts: PlanOptions): JobSpec {
  const params: TransferJobParams = { src: p.dir, dst: plateDestination(p, opts), transfers: opts.transfers, store: definedOptions(opts.store) };
  return { kind: TRANSFER_JOB, key: plateKey(p), params };
}
