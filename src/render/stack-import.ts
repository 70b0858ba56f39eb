// One stack to import: its tiles, what render-ws should hold once it is COMPLETE, and the tiles cut
// into batches (one PUT each). A batch's key names the stack, the batch's place and a digest of
// what its body is made from (the planned tiles and the image folders), so a resumed import
// recognises the batches already sent, and a batch whose tiles changed since (a .dat fetched again)
// is sent again under a new key. Plain data: a plan can be written as JSON and read back by the jobs
// that carry it out.
import { createHash } from 'node:crypto';
import type { PlannedTile } from '../formats/render/plan.ts';
import { stackExpectation } from '../formats/render/stack.ts';
import type { StackExpectation } from '../formats/render/stack.ts';
import type { TileImages } from '../formats/render/tile-spec.ts';
import type { RenderTarget } from './client.ts';

/** The most tiles one request carries (what the pipeline's h5 import sends at a time). */
export const MAX_BATCH_TILES = 5000;

export interface BatchPlan {
  /** `<owner>/<project>/<stack>/<index>-<digest of what the body is made from>`. */
  key: string;
  index: number;
  /** The batch is tiles[start, end) of the stack. */
  start: number;
  end: number;
}

export interface StackImport {
  stack: string;
  tiles: PlannedTile[];
  images: TileImages;
  /** The new stack version's resolution. */
  resolution: { x: number; y: number; z: number };
  /** Set once the stack is COMPLETE (the seed's script sets [8, 8, 8]); undefined keeps the version's. */
  resolutionValues?: number[];
  expected: StackExpectation;
  /** Tiles per request. */
  batchSize: number;
  batches: BatchPlan[];
}

export interface StackImportOptions {
  batchSize?: number;
  resolutionValues?: number[];
}

export function stackImport(target: RenderTarget, stack: string, tiles: PlannedTile[], images: TileImages, resolution: StackImport['resolution'], opts: StackImportOptions = {}): StackImport {
  const size = opts.batchSize ?? MAX_BATCH_TILES;
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_TILES) throw new RangeError(`batch size must be 1 to ${MAX_BATCH_TILES}, not ${size}`);
  const batches: BatchPlan[] = [];
  for (let start = 0, index = 0; start < tiles.length; start += size, index++) {
    const end = Math.min(start + size, tiles.length);
    // The body is a function of these alone; hashing them costs a quarter of building the body.
    const digest = createHash('sha256').update(JSON.stringify(images)).update(JSON.stringify(tiles.slice(start, end))).digest('hex').slice(0, 16);
    batches.push({ key: `${target.owner}/${target.project}/${stack}/${index}-${digest}`, index, start, end });
  }
  return { stack, tiles, images, resolution, resolutionValues: opts.resolutionValues, expected: stackExpectation(tiles), batchSize: size, batches };
}
