// Render stacks: the names render-ws accepts, the StackVersion body that creates a stack, and the
// stats render-ws derives when a stack is set COMPLETE (what an import is verified against).
// Sources: saalfeldlab/render StackId, CollectionNameUtil, StackVersion, RenderDao
// (ensureIndexesAndDeriveStats); render-python stack.py (create_stack, StackVersion.to_dict).
import { FerryError } from '../../errors.ts';
import type { PlannedTile } from './plan.ts';
import { tileBounds } from './tile-spec.ts';

// render-ws's own check (CollectionNameUtil): alphanumeric words joined by single underscores.
const NAME = /^[A-Za-z0-9]+(_[A-Za-z0-9]+)*$/;
// MongoDB's 120-byte namespace, less "render." and the longest index name ".A"; the longest of a
// stack's collections is `<owner>__<project>__<stack>__transform`.
const MAX_COLLECTION_NAME = 120 - 'render'.length - 1 - '.A'.length;

export interface StackName {
  owner: string;
  project: string;
  stack: string;
}

/** The problem render-ws would answer 400 for, or undefined when it accepts the name. */
export function stackNameProblem(n: StackName): string | undefined {
  for (const [what, value] of [['owner', n.owner], ['project', n.project], ['stack', n.stack]] as const) {
    if (!NAME.test(value)) {
      return `invalid ${what} '${value}': render-ws accepts only letters, digits and single underscores between them (no hyphens, no spaces, no '__')`;
    }
  }
  const longest = `${n.owner}__${n.project}__${n.stack}__transform`;
  if (longest.length > MAX_COLLECTION_NAME) {
    return `owner, project and stack '${n.owner}', '${n.project}', '${n.stack}' are too long together: render-ws names a collection '${longest}' (${longest.length} characters, at most ${MAX_COLLECTION_NAME})`;
  }
  return undefined;
}

export function checkStackNames(names: StackName[]): void {
  for (const n of names) {
    const problem = stackNameProblem(n);
    if (problem) throw new FerryError(problem, { hint: 'choose names render-ws accepts (--owner, --project, --stack or the tab\'s render: block); hyphens can become underscores', code: 'RenderBadName' });
  }
}

/** `POST <stack>`: renderapi's key order; the time in render-ws's own format (UTC, milliseconds). */
export function stackVersionJson(resolution: { x: number; y: number; z: number }, createdAt: Date): string {
  return JSON.stringify({ stackResolutionX: resolution.x, stackResolutionY: resolution.y, stackResolutionZ: resolution.z, createTimestamp: createdAt.toISOString() });
}

export interface StackBounds {
  minX: number;
  minY: number;
  minZ: number;
  maxX: number;
  maxY: number;
  maxZ: number;
}

/** What render-ws's COMPLETE derives for these tiles: counts, bounds, and the distinct z values. */
export interface StackExpectation {
  tileCount: number;
  /** render-ws counts distinct z values, not section ids. */
  sectionCount: number;
  zValues: number[];
  bounds: StackBounds;
}

export function stackExpectation(tiles: PlannedTile[]): StackExpectation {
  const b = { minX: Infinity, minY: Infinity, minZ: Infinity, maxX: -Infinity, maxY: -Infinity, maxZ: -Infinity };
  const z = new Set<number>();
  for (const t of tiles) {
    const tb = tileBounds(t);
    b.minX = Math.min(b.minX, tb.minX);
    b.minY = Math.min(b.minY, tb.minY);
    b.maxX = Math.max(b.maxX, tb.maxX);
    b.maxY = Math.max(b.maxY, tb.maxY);
    b.minZ = Math.min(b.minZ, t.z);
    b.maxZ = Math.max(b.maxZ, t.z);
    z.add(t.z);
  }
  return { tileCount: tiles.length, sectionCount: z.size, zValues: [...z].sort((a, b2) => a - b2), bounds: b };
}
