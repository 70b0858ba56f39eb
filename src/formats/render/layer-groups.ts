// Splitting an acquisition into layers and "layer groups" the way EM_recon_pipeline dat_to_render.py
// does (get_layer_group): tiles with the same timestamp are one layer; layers run on in one group
// until a restart condition, which the group records and the import later labels.
//
// The rules are the pipeline's, odd ones included, because the groups decide z, labels and patches:
// - a tile more than 900 s after the previous tile is a restart ("acquisition_delay"), the gap
//   measured with timedelta.seconds, which ignores whole days (see python.ts);
// - otherwise a common header key (COMMON_HEADER_KEYS) that differs from the GROUP'S FIRST tile is
//   a restart ("change_header_<key>"), except PixelSize changes under 0.5;
// - a finished layer whose tile count differs from the group's is a restart ("change_tile_count"),
//   and that layer starts the next group;
// - a restart found inside an unfinished layer drops that partial layer from the group (it starts
//   the next group), unless it is the group's first layer, which is then kept as it is;
// - a last layer that begins on the very last tile is left out of the group and becomes a group of
//   its own, without a restart condition (so it is neither labelled nor patched).
// The pipeline's 32-worker run (the seed's) builds groups per worker and merges them in a second
// pass over each worker-group's first header; that gives these groups, except where PixelSize
// drifts by steps under 0.5 that add up to 0.5 or more within a group.
import { COMMON_HEADER_KEYS } from './dat-tile.ts';
import type { TileHeader } from './dat-tile.ts';
import { timedeltaSeconds } from './python.ts';
import type { TileName } from './tile-name.ts';

const RESTART_SECONDS = 15 * 60;

export interface NamedTile {
  name: TileName;
  header: TileHeader;
}

export interface LayerGroup {
  /** Index (in the sorted tile list) of the group's first tile, whose header the group is checked against. */
  first: number;
  /** Tile indices of each layer, in name order. */
  layers: number[][];
  tilesPerLayer: number;
  /** The pipeline's message for what ended the group; undefined when the tiles ran out (see above). */
  restartCondition?: string;
}

/** `tiles` sorted by file name. */
export function layerGroups(tiles: NamedTile[]): LayerGroup[] {
  const groups: LayerGroup[] = [];
  for (let start = 0; start < tiles.length; ) {
    const g = layerGroup(tiles, start);
    groups.push(g);
    start += g.layers.length * g.tilesPerLayer;
  }
  return groups;
}

function layerGroup(tiles: NamedTile[], start: number): LayerGroup {
  const first = tiles[start].header;
  const layers: number[][] = [];
  let layer = [start];
  let tilesPerLayer: number | undefined;
  let restartCondition: string | undefined;
  let previous = tiles[start].name;

  for (let i = start + 1; i < tiles.length; i++) {
    const tile = tiles[i];
    const gap = timedeltaSeconds(tile.name.time, previous.time);
    restartCondition =
      gap > RESTART_SECONDS
        ? `acquisition_delay: tile ${tile.name.baseId} acquired ${gap} seconds after tile ${previous.baseId}`
        : headerChange(first, previous.baseId, tile.header, tile.name.baseId);

    let closeLayer = false;
    if (restartCondition) {
      closeLayer = tilesPerLayer === undefined || tilesPerLayer === layer.length;
      if (!closeLayer) restartCondition += `, not adding ${layer.length} tile layer with tile ${previous.baseId} to ${tilesPerLayer} tile layer group`;
    } else if (gap === 0) {
      layer.push(i);
      closeLayer = i === tiles.length - 1;
    } else {
      closeLayer = true; // a new timestamp is a new layer
    }

    if (closeLayer) {
      if (tilesPerLayer !== undefined && tilesPerLayer !== layer.length) {
        restartCondition = `change_tile_count: layer with tile ${tile.name.baseId} has ${layer.length} instead of ${tilesPerLayer} tiles`;
      } else {
        tilesPerLayer = layer.length;
        layers.push(layer);
        layer = [i];
      }
    }
    if (restartCondition) break;
    previous = tile.name;
  }

  // The group's only tile(s) when the list ends before a second layer begins.
  if (layers.length === 0) layers.push(layer);
  return { first: start, layers, tilesPerLayer: tilesPerLayer ?? layer.length, restartCondition };
}

function headerChange(groupFirst: TileHeader, previousBaseId: string, header: TileHeader, baseId: string): string | undefined {
  for (const k of COMMON_HEADER_KEYS) {
    if (header[k] === groupFirst[k]) continue;
    // Small steps of PixelSize follow the working distance as material is milled away (the
    // pipeline's comment, from the microscope's operator); alignment absorbs them.
    if (k === 'PixelSize' && Math.abs(header.PixelSize - groupFirst.PixelSize) < 0.5) continue;
    return `change_header_${k.toLowerCase()}: ${k} value of ${groupFirst[k]} for ${previousBaseId} changed to ${header[k]} for ${baseId}`;
  }
  return undefined;
}
