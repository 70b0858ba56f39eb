// Importing one stack into render-ws, in three steps a caller runs in order (each may be a job, each
// is safe to run again after a crash): openStack, then sendBatch for every batch (any order, a few
// at a time), then finishStack. The FlyEM pipeline imports `<stack>_restart` before `<stack>`; so
// should the caller.
//
// Nothing is changed on a stack that is READ_ONLY or OFFLINE (render-ws itself would let a new
// version reopen an OFFLINE stack, empty), and tiles of an earlier import that this one does not
// plan are only removed when the caller says so (`replace`).
import { FerryError } from '../errors.ts';
import { mapLimited } from '../map-limited.ts';
import { stackVersionJson } from '../formats/render/stack.ts';
import { resolvedTilesJson } from '../formats/render/tile-spec.ts';
import type { RenderClient, StackMetaData } from './client.ts';
import type { BatchPlan, StackImport } from './stack-import.ts';

export interface ImportOptions {
  /** Remove tiles the stack holds that this import does not plan (from an earlier import). */
  replace?: boolean;
}

export interface OpenResult {
  stack: string;
  /** created: the stack did not exist; reopened: a COMPLETE stack got a new LOADING version; resumed: it was LOADING. */
  action: 'created' | 'reopened' | 'resumed';
  /** Tiles the stack already held, and how many of them this import does not plan. */
  existingTiles: number;
  staleTiles: number;
}

export interface FinishResult {
  stack: string;
  tiles: number;
  /** Tiles of an earlier import removed (only with `replace`). */
  removed: number;
  /** Planned tiles the stack lacked, sent again. */
  resent: number;
  /** The stack was COMPLETE with exactly the planned tiles already (a finish run twice). */
  alreadyComplete: boolean;
}

export interface StackCheck {
  /** undefined when the stack does not exist yet. */
  meta?: StackMetaData;
  /** Tiles the stack holds, and how many of them this import does not plan. */
  existingTiles: number;
  staleTiles: number;
}

/**
 * What openStack checks before it changes anything: a stack Ferry must not change is refused, and
 * so are tiles of an earlier import unless `replace`. Read-only, so an import can check every stack
 * before it opens the first.
 */
export async function checkStack(client: RenderClient, s: StackImport, opts: ImportOptions = {}): Promise<StackCheck> {
  const meta = await client.stackMetaData(s.stack);
  if (!meta) return { existingTiles: 0, staleTiles: 0 };
  refuseLocked(client, s.stack, meta);
  const existing = await client.tileIds(s.stack);
  const stale = notPlanned(existing, s);
  if (stale.length > 0 && !opts.replace) throw staleError(client, s.stack, stale);
  return { meta, existingTiles: existing.length, staleTiles: stale.length };
}

/** Creates the stack (LOADING) or reopens it for loading; refuses a stack Ferry must not change. */
export async function openStack(client: RenderClient, s: StackImport, opts: ImportOptions = {}): Promise<OpenResult> {
  const { meta, existingTiles, staleTiles } = await checkStack(client, s, opts);
  if (meta?.state === 'LOADING') return { stack: s.stack, action: 'resumed', existingTiles, staleTiles };
  await client.saveStackVersion(s.stack, stackVersionJson(s.resolution, new Date()));
  return { stack: s.stack, action: meta ? 'reopened' : 'created', existingTiles, staleTiles };
}

/** One PUT of resolved tiles; render-ws upserts by tile id, so sending a batch twice changes nothing. */
export async function sendBatch(client: RenderClient, s: StackImport, batch: BatchPlan): Promise<{ stack: string; key: string; tiles: number }> {
  await client.saveResolvedTiles(s.stack, resolvedTilesJson(s.tiles.slice(batch.start, batch.end), s.images));
  return { stack: s.stack, key: batch.key, tiles: batch.end - batch.start };
}

/**
 * Makes the stack hold exactly the planned tiles (removing stale ones only with `replace`, sending
 * missing ones again), then sets it COMPLETE (render-ws derives its stats) and its resolution values.
 */
export async function finishStack(client: RenderClient, s: StackImport, opts: ImportOptions & { concurrency?: number } = {}): Promise<FinishResult> {
  const meta = await client.stackMetaData(s.stack);
  if (!meta) {
    throw new FerryError(`stack ${client.describe(s.stack)} does not exist (any more)`, { hint: 'someone removed it during the import; run the import again', code: 'RenderStackGone', exitCode: 1 });
  }
  refuseLocked(client, s.stack, meta);
  let ids = await client.tileIds(s.stack);
  const result: FinishResult = { stack: s.stack, tiles: s.tiles.length, removed: 0, resent: 0, alreadyComplete: false };
  if (meta.state === 'COMPLETE' && sameIds(ids, s)) {
    result.alreadyComplete = true;
  } else {
    if (meta.state === 'COMPLETE') throw new FerryError(`stack ${client.describe(s.stack)} is COMPLETE but holds other tiles than this import plans`, { hint: 'it was changed during the import; run the import again', code: 'RenderStackChanged', exitCode: 1 });
    const stale = notPlanned(ids, s);
    if (stale.length > 0 && !opts.replace) throw staleError(client, s.stack, stale);
    await mapLimited(stale, opts.concurrency ?? 4, (id) => client.deleteTile(s.stack, id));
    result.removed = stale.length;

    const held = new Set(ids);
    const missing = s.tiles.filter((t) => !held.has(t.tileId));
    for (let i = 0; i < missing.length; i += s.batchSize) {
      await client.saveResolvedTiles(s.stack, resolvedTilesJson(missing.slice(i, i + s.batchSize), s.images));
    }
    result.resent = missing.length;

    ids = await client.tileIds(s.stack);
    if (!sameIds(ids, s)) {
      throw new FerryError(`stack ${client.describe(s.stack)} still differs from the plan after the repair (${ids.length} tiles, ${s.tiles.length} planned): something else is writing to it`, {
        hint: 'stop the other writer, then run the import again',
        code: 'RenderStackChanged',
        exitCode: 1,
      });
    }
    await client.setState(s.stack, 'COMPLETE');
  }
  if (s.resolutionValues) await client.setResolutionValues(s.stack, s.resolutionValues);
  return result;
}

function refuseLocked(client: RenderClient, stack: string, meta: StackMetaData): void {
  if (meta.state === 'READ_ONLY' || meta.state === 'OFFLINE') {
    throw new FerryError(`stack ${client.describe(stack)} is ${meta.state}: Ferry does not change a ${meta.state} stack`, {
      hint: 'import into another stack (--stack), or have the stack\'s owner set it to COMPLETE first',
      code: 'RenderStackLocked',
    });
  }
}

function notPlanned(ids: string[], s: StackImport): string[] {
  const planned = new Set(s.tiles.map((t) => t.tileId));
  return ids.filter((id) => !planned.has(id));
}

function sameIds(ids: string[], s: StackImport): boolean {
  return ids.length === s.tiles.length && notPlanned(ids, s).length === 0;
}

function staleError(client: RenderClient, stack: string, stale: string[]): FerryError {
  const shown = stale.slice(0, 3).join(', ') + (stale.length > 3 ? ` and ${stale.length - 3} more` : '');
  return new FerryError(`stack ${client.describe(stack)} holds ${stale.length} tile(s) this import does not plan (from an earlier import?): ${shown}`, {
    hint: 'pass --replace to remove them, or import into another stack (--stack)',
    code: 'RenderStaleTiles',
  });
}
