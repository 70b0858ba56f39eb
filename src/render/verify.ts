// Verifying an imported stack against its plan, by reading back what render-ws holds: the stack is
// COMPLETE, its derived stats (tile count, section count, bounds) equal the plan's, its z values
// and tile ids are the planned ones, its resolution values are the ones set, and the tile specs of
// every z (or of a sample of z on a large stack) equal what was sent, as render-ws stores it. The
// result says exactly what was compared; `ok` is true only when every comparison held.
import { DEFAULT_MESH_CELL_SIZE, tileBounds, tileSpecJson } from '../formats/render/tile-spec.ts';
import type { StackBounds } from '../formats/render/stack.ts';
import type { PlannedTile } from '../formats/render/plan.ts';
import { mapLimited } from '../map-limited.ts';
import type { RenderClient } from './client.ts';
import type { StackImport } from './stack-import.ts';

/** z values whose tiles are compared when not all are: first, last, restart and patch layers, then spread evenly. */
export const DEFAULT_SAMPLE_LAYERS = 100;
/** At most this many ids and mismatches are listed (all are counted). */
const LISTED = 10;

export interface VerifyOptions {
  /** Compare the tiles of every z ('all'), or of this many z values. */
  layers?: 'all' | number;
  concurrency?: number;
}

export interface Comparison<T> {
  expected: T;
  actual: T | undefined;
  ok: boolean;
}

export interface TileMismatch {
  tileId: string;
  /** JSON path within the tile spec, e.g. `layout.stageX`; `(missing)` when render-ws has no such tile. */
  field: string;
  expected: unknown;
  actual: unknown;
}

export interface StackVerification {
  url: string;
  owner: string;
  project: string;
  stack: string;
  /** When the stack was read back (ISO 8601). */
  checkedAt: string;
  ok: boolean;
  state: Comparison<string>;
  tileCount: Comparison<number>;
  sectionCount: Comparison<number>;
  bounds: Comparison<StackBounds>;
  /** render-ws's z values equal the planned ones, all of them, in order (for the main stack: 1..L); counts shown. */
  zValues: { expected: number; actual: number; ok: boolean; first?: number; last?: number };
  /** render-ws's tile ids equal the planned ones; the first few of each difference listed, all counted. */
  tileIds: { expected: number; actual: number; missing: string[]; unexpected: string[]; missingCount: number; unexpectedCount: number; ok: boolean };
  resolutionValues?: Comparison<(number | null)[]>;
  specs: {
    /** 'all' when every z was compared. */
    mode: 'all' | 'sample';
    /** The z values whose tile specs were read back and compared, of `layersTotal`. */
    layers: number[];
    layersTotal: number;
    tilesCompared: number;
    /** The JSON paths compared in each tile spec (bounds and meshCellSize, which render-ws adds, included). */
    fields: string[];
    mismatchCount: number;
    mismatches: TileMismatch[];
    ok: boolean;
  };
}

export async function verifyStack(client: RenderClient, s: StackImport, opts: VerifyOptions = {}): Promise<StackVerification> {
  const meta = await client.stackMetaData(s.stack);
  const stats = meta?.stats;
  const e = s.expected;
  const actualBounds = stats?.stackBounds;
  const state = compare('COMPLETE', meta?.state);
  const tileCount = compare(e.tileCount, stats?.tileCount);
  const sectionCount = compare(e.sectionCount, stats?.sectionCount);
  const bounds = compare(e.bounds, actualBounds && pick(actualBounds, ['minX', 'minY', 'minZ', 'maxX', 'maxY', 'maxZ']));

  const z = meta ? await client.zValues(s.stack) : [];
  const zValues = { expected: e.zValues.length, actual: z.length, ok: sameList(z, e.zValues), first: z[0], last: z.at(-1) };

  const ids = meta ? await client.tileIds(s.stack) : [];
  const planned = new Set(s.tiles.map((t) => t.tileId));
  const held = new Set(ids);
  const missing = s.tiles.filter((t) => !held.has(t.tileId)).map((t) => t.tileId);
  const unexpected = ids.filter((id) => !planned.has(id));
  const tileIds = { expected: planned.size, actual: ids.length, missing: missing.slice(0, LISTED), unexpected: unexpected.slice(0, LISTED), missingCount: missing.length, unexpectedCount: unexpected.length, ok: missing.length === 0 && unexpected.length === 0 };

  const resolutionValues = s.resolutionValues && (meta ? compare(s.resolutionValues as (number | null)[], await client.resolutionValues(s.stack)) : compare(s.resolutionValues, undefined));
  const specs = meta ? await compareSpecs(client, s, opts) : { mode: 'sample' as const, layers: [], layersTotal: e.zValues.length, tilesCompared: 0, fields: [], mismatchCount: 0, mismatches: [], ok: false };

  const ok = state.ok && tileCount.ok && sectionCount.ok && bounds.ok && zValues.ok && tileIds.ok && (resolutionValues?.ok ?? true) && specs.ok;
  const { url, owner, project } = client.target;
  return { url, owner, project, stack: s.stack, checkedAt: new Date().toISOString(), ok, state, tileCount, sectionCount, bounds, zValues, tileIds, resolutionValues, specs };
}

async function compareSpecs(client: RenderClient, s: StackImport, opts: VerifyOptions): Promise<StackVerification['specs']> {
  const byZ = new Map<number, PlannedTile[]>();
  for (const t of s.tiles) {
    const layer = byZ.get(t.z);
    if (layer) layer.push(t);
    else byZ.set(t.z, [t]);
  }
  const all = s.expected.zValues;
  const layers = opts.layers === 'all' ? all : sampleLayers(all, byZ, opts.layers ?? DEFAULT_SAMPLE_LAYERS);
  const mismatches: TileMismatch[] = [];
  const fields = new Set<string>();
  let tilesCompared = 0;
  await mapLimited(layers, opts.concurrency ?? 4, async (z) => {
    const got = await client.resolvedTilesAt(s.stack, z);
    const actual = got?.tileIdToSpecMap ?? {};
    if (got && Object.keys(got.transformIdToSpecMap).length > 0) {
      mismatches.push({ tileId: `(z ${z})`, field: 'transformIdToSpecMap', expected: {}, actual: got.transformIdToSpecMap });
    }
    const expected = new Map(byZ.get(z)!.map((t) => [t.tileId, storedSpec(t, s)]));
    for (const [id, spec] of expected) {
      tilesCompared++;
      if (!(id in actual)) mismatches.push({ tileId: id, field: '(missing)', expected: spec, actual: undefined });
      else diff(spec, actual[id], '', id, mismatches, fields);
    }
    for (const id of Object.keys(actual)) if (!expected.has(id)) mismatches.push({ tileId: id, field: '(unexpected)', expected: undefined, actual: actual[id] });
  });
  return {
    mode: layers.length === all.length ? 'all' : 'sample',
    layers: [...layers].sort((a, b) => a - b),
    layersTotal: all.length,
    tilesCompared,
    fields: [...fields].sort(),
    mismatchCount: mismatches.length,
    mismatches: mismatches.slice(0, LISTED),
    ok: mismatches.length === 0 && layers.length > 0,
  };
}

/** What render-ws stores for a tile sent as renderapi sends it: its derived bounds and meshCellSize added. */
function storedSpec(t: PlannedTile, s: StackImport): Record<string, unknown> {
  return { ...tileSpecJson(t, s.images), ...tileBounds(t), meshCellSize: DEFAULT_MESH_CELL_SIZE };
}

function sampleLayers(all: number[], byZ: Map<number, PlannedTile[]>, count: number): number[] {
  if (all.length <= count) return all;
  const chosen = new Set<number>([all[0], all[all.length - 1]]);
  // Restart and patch layers are where the plan is least ordinary: all of them, up to half the sample.
  for (const z of all) {
    if (chosen.size >= count / 2) break;
    if (byZ.get(z)!.some((t) => t.labels)) chosen.add(z);
  }
  const rest = count - chosen.size;
  for (let i = 0; i < rest; i++) chosen.add(all[Math.round(((i + 1) * (all.length - 1)) / (rest + 1))]);
  return [...chosen];
}

/** Field-by-field; numbers by value; labels as a set (render-ws keeps them in a Java HashSet). */
function diff(expected: unknown, actual: unknown, path: string, tileId: string, out: TileMismatch[], fields: Set<string>): void {
  if (path) fields.add(path);
  if (path === 'labels' && Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length || !expected.every((l) => actual.includes(l))) out.push({ tileId, field: path, expected, actual });
    return;
  }
  if (isRecord(expected) && isRecord(actual)) {
    for (const k of new Set([...Object.keys(expected), ...Object.keys(actual)])) diff(expected[k], actual[k], path ? `${path}.${k}` : k, tileId, out, fields);
    return;
  }
  if (Array.isArray(expected) && Array.isArray(actual) && expected.length === actual.length) {
    expected.forEach((v, i) => diff(v, actual[i], `${path}[${i}]`, tileId, out, fields));
    return;
  }
  if (expected !== actual) out.push({ tileId, field: path, expected, actual });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function compare<T>(expected: T, actual: T | undefined): Comparison<T> {
  return { expected, actual, ok: JSON.stringify(expected) === JSON.stringify(actual) };
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;
}

function sameList(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** What differs, in words: one item per comparison that failed (none when `v.ok`). */
export function verificationProblems(v: StackVerification): string[] {
  const out: string[] = [];
  const was = (c: Comparison<unknown>) => (c.actual === undefined ? 'none' : JSON.stringify(c.actual));
  if (!v.state.ok) out.push(v.state.actual === undefined ? 'the stack does not exist' : `state ${v.state.actual}, not COMPLETE`);
  if (!v.tileCount.ok) out.push(`tile count ${was(v.tileCount)}, planned ${v.tileCount.expected}`);
  if (!v.sectionCount.ok) out.push(`section count ${was(v.sectionCount)}, planned ${v.sectionCount.expected}`);
  if (!v.bounds.ok) out.push(`bounds ${was(v.bounds)}, planned ${JSON.stringify(v.bounds.expected)}`);
  if (!v.zValues.ok) out.push(`${v.zValues.actual} z values${v.zValues.actual ? ` (${v.zValues.first}..${v.zValues.last})` : ''}, planned ${v.zValues.expected}`);
  if (!v.tileIds.ok) {
    const t = v.tileIds;
    const listed = (ids: string[], count: number) => ids.join(', ') + (count > ids.length ? ` and ${count - ids.length} more` : '');
    out.push([t.missingCount && `${t.missingCount} planned tile(s) missing: ${listed(t.missing, t.missingCount)}`, t.unexpectedCount && `${t.unexpectedCount} tile(s) not planned: ${listed(t.unexpected, t.unexpectedCount)}`].filter(Boolean).join('; '));
  }
  if (v.resolutionValues && !v.resolutionValues.ok) out.push(`resolution values ${was(v.resolutionValues)}, set ${JSON.stringify(v.resolutionValues.expected)}`);
  if (!v.specs.ok) {
    const m = v.specs.mismatches[0];
    const short = (x: unknown) => {
      const s = x === undefined ? 'nothing' : JSON.stringify(x);
      return s.length > 120 ? `${s.slice(0, 120)}...` : s;
    };
    out.push(m ? `${v.specs.mismatchCount} tile spec difference(s) in the layers read back, first: ${m.tileId} ${m.field} is ${short(m.actual)}, sent ${short(m.expected)}` : 'no tile specs were read back');
  }
  return out;
}
