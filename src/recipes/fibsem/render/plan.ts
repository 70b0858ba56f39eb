// Planning the Render import of one FIB-SEM tab (seed 000, 06_dat_to_render.sh): where to import
// (the tab's render: block, each flag overriding it), the headers of every transferred `.dat`, and
// the two stacks the FlyEM pipeline would make from them, cut into batches. Nothing is sent.
import { FerryError } from '../../../errors.ts';
import { planStackTiles } from '../../../formats/render/plan.ts';
import type { GroupSummary } from '../../../formats/render/plan.ts';
import { checkStackNames } from '../../../formats/render/stack.ts';
import { tileSpecJson } from '../../../formats/render/tile-spec.ts';
import type { TileImages } from '../../../formats/render/tile-spec.ts';
import type { RenderTarget } from '../../../render/client.ts';
import { stackImport } from '../../../render/stack-import.ts';
import type { StackImport } from '../../../render/stack-import.ts';
import type { Tab } from '../tab.ts';
import { readTabDatHeaders } from './dat-headers.ts';
import type { SkippedDat } from './dat-headers.ts';

/** dat_to_render.py's default --stack_name, which the seed keeps. */
export const DEFAULT_STACK = 'v1_acquire';
/** 06_dat_to_render.sh overrides both stacks' resolution with these after the import. */
export const SEED_RESOLUTION_VALUES = [8, 8, 8];

export interface RenderImportTarget extends RenderTarget {
  stack: string;
}

export interface PlanRenderImportOptions {
  /** Each overrides the tab's render: block. */
  url?: string;
  owner?: string;
  project?: string;
  stack?: string;
  /** Import without the `.dat` files that cannot be read (their layers get fewer tiles). */
  allowMissing?: boolean;
  batchSize?: number;
  onProgress?(done: number, total: number): void;
}

export interface RenderImportPlan {
  target: RenderImportTarget;
  /** `<stack>_restart` first (when the acquisition has restarts), then `<stack>`. */
  stacks: StackImport[];
  /** `.dat` files whose headers were read. */
  datFiles: number;
  /** Files left out, each with its reason (planning stops on them unless allowMissing). */
  skipped: SkippedDat[];
  /** The acquisition's layer groups: where each restart is and why, which were patched. */
  groups: GroupSummary[];
  images: TileImages;
}

export async function planRenderImport(tab: Tab, opts: PlanRenderImportOptions = {}): Promise<RenderImportPlan> {
  const target = renderTarget(tab, opts);
  const restartStack = `${target.stack}_restart`;
  checkStackNames([target, { ...target, stack: restartStack }]);

  const read = await readTabDatHeaders(tab, { onProgress: opts.onProgress });
  if (read.tiles.length + read.skipped.length === 0) {
    throw new FerryError(`no .dat files in ${read.folders.join(' or ')}`, { hint: 'check folders.archiveDat and folders.transferredDat in the tab description', code: 'RenderNoTiles' });
  }
  if (read.skipped.length > 0 && !opts.allowMissing) {
    const shown = read.skipped.slice(0, 5).map((s) => `${s.path} (${s.reason})`);
    throw new FerryError(`${read.skipped.length} .dat file(s) cannot be used, so their layers would have holes: ${shown.join('; ')}${read.skipped.length > 5 ? `; and ${read.skipped.length - 5} more` : ''}`, {
      hint: 'fetch them again from the microscope (ferry fibsem repair), or pass --allow-missing to import without them',
      code: 'RenderUnreadableDat',
      exitCode: 1,
    });
  }

  const planned = planStackTiles(read.tiles);
  const images: TileImages = { inLensDir: tab.folders.inLensPng, maskDir: tab.render?.maskDir };
  const build = (stack: string, tiles: typeof planned.main) => stackImport(target, stack, tiles, images, planned.resolution, { batchSize: opts.batchSize, resolutionValues: SEED_RESOLUTION_VALUES });
  const stacks = [...(planned.restart.length > 0 ? [build(restartStack, planned.restart)] : []), build(target.stack, planned.main)];
  return { target, stacks, datFiles: read.tiles.length + read.skipped.length, skipped: read.skipped, groups: planned.groups, images };
}

function renderTarget(tab: Tab, opts: PlanRenderImportOptions): RenderImportTarget {
  const r = tab.render ?? {};
  const url = opts.url ?? r.url;
  const owner = opts.owner ?? r.owner;
  const project = opts.project ?? r.project;
  const missing = [!url && '--render-url', !owner && '--owner', !project && '--project'].filter(Boolean);
  if (missing.length > 0) {
    throw new FerryError(`no Render ${missing.join(', ')} given for ${tab.tab}`, {
      hint: `pass ${missing.join(', ')}, or add render: {url, owner, project} to ${tab.source}`,
      code: 'RenderNoTarget',
    });
  }
  return { url: url!, owner: owner!, project: project!, stack: opts.stack ?? r.stack ?? DEFAULT_STACK };
}

/** What `--dry-run` shows: the stacks, what each will hold, and every tile spec as it would be sent. */
export function renderImportPreview(plan: RenderImportPlan): Record<string, unknown> {
  return {
    target: plan.target,
    datFiles: plan.datFiles,
    skipped: plan.skipped,
    groups: plan.groups,
    stacks: plan.stacks.map((s) => ({
      stack: s.stack,
      stackResolution: s.resolution,
      resolutionValues: s.resolutionValues,
      expected: { tileCount: s.expected.tileCount, sectionCount: s.expected.sectionCount, bounds: s.expected.bounds },
      batches: s.batches.map((b) => ({ key: b.key, tiles: b.end - b.start })),
      tileSpecs: s.tiles.map((t) => tileSpecJson(t, s.images)),
    })),
  };
}
