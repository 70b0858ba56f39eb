// From an acquisition's `.dat` headers to the tiles of the two Render stacks the FlyEM pipeline
// makes (EM_recon_pipeline dat_to_render.py at 34638ab; the seed's 06_dat_to_render.sh runs a copy
// of it with --restart_context_layers 2 and the defaults: 2 µm tile overlap, 100-pixel mask):
// - `<stack>`: every layer at z = 1, 2, 3 ...; a layer group of a single layer that follows a
//   restart is replaced by copies of the layer before it (tile id `<base>.patch.<sectionId>`);
// - `<stack>_restart`: the two layers before and the first two layers after each restart.
// The first layer after a restart is labelled ["restart", <condition>] (plus "patch" when patched)
// and, like the layer before the restart, gets groupId "restart".
//
// Where the pipeline's results follow from Python aliasing, this code keeps the same sharing on
// purpose: a tile in both stacks is ONE object, so the groupId set on it later and the distanceZ
// computed over the main stack show in the restart stack too, while the original tiles of a
// patched layer (only in the restart stack) get no distanceZ.
import { FerryError } from '../../errors.ts';
import type { DatTile, TileHeader } from './dat-tile.ts';
import { layerGroups } from './layer-groups.ts';
import type { LayerGroup, NamedTile } from './layer-groups.ts';
import { roundHalfEven } from './python.ts';
import { parseTileName } from './tile-name.ts';

/** The seed passes --restart_context_layers 2. */
export const RESTART_CONTEXT_LAYERS = 2;
/** dat_to_render.py's default --tile_overlap_in_microns, used only by headers without FirstX/FirstY. */
export const TILE_OVERLAP_NM = 2000;
/** Where positions start without FirstX/FirstY ("helps viewers that have trouble with negative space"). */
const MARGIN = 400;

export interface PlannedTile {
  tileId: string;
  z: number;
  sectionId: string;
  /** Core name of the `.dat` whose images the tile shows (the copied tile's, for a patch). */
  core: string;
  row: number;
  col: number;
  stageX: number;
  stageY: number;
  width: number;
  height: number;
  workingDistance: number;
  /** WD minus the WD of the previous tile in the same column, in nm; the first of each column has none. */
  distanceZ?: number;
  labels?: string[];
  groupId?: string;
}

export interface GroupSummary {
  /** Core name of the group's first tile. */
  firstTile: string;
  firstZ: number;
  layers: number;
  tilesPerLayer: number;
  /** What ended the group, as the pipeline words it; the next group is labelled with its first word. */
  restartCondition?: string;
  /** This group's single layer was replaced by copies of the previous layer. */
  patched: boolean;
}

export interface StackTiles {
  main: PlannedTile[];
  /** Unique by tile id, in first-seen order (render-ws keys tiles by id, so repeats would collapse). */
  restart: PlannedTile[];
  /** X/Y from the LAST group's PixelSize (the pipeline keeps the last value of its loop); Z from distanceZ. */
  resolution: { x: number; y: number; z: number };
  groups: GroupSummary[];
}

export function planStackTiles(datTiles: DatTile[]): StackTiles {
  if (datTiles.length === 0) throw new FerryError('no .dat files to import', { hint: 'check the tab\'s dat folders', code: 'RenderNoTiles' });
  const tiles = nameTiles(datTiles);
  const groups = layerGroups(tiles);
  checkSampleIds(tiles, groups);

  const main: PlannedTile[] = [];
  const restart: PlannedTile[] = [];
  const summaries: GroupSummary[] = [];
  let startZ = 1;
  let priorCondition: string | undefined;
  let priorLastLayer: PlannedTile[] = [];
  let preRestart: PlannedTile[] = [];
  let pixelSize = 0;

  for (const g of groups) {
    const header = tiles[g.first].header;
    pixelSize = header.PixelSize;
    const specs = groupTiles(tiles, g, startZ);
    const perLayer = g.tilesPerLayer;
    const firstLayer = specs.slice(0, perLayer);
    const patched = priorCondition !== undefined && g.layers.length === 1;

    if (priorCondition !== undefined) {
      const label = priorCondition.slice(0, priorCondition.indexOf(':'));
      for (const t of priorLastLayer) t.groupId = 'restart';
      // One array shared by the layer's tiles and its patch copies, as the pipeline's list is.
      const labels = patched ? ['restart', label, 'patch'] : ['restart', label];
      for (const t of firstLayer) {
        t.labels = labels;
        t.groupId = 'restart';
      }
      append(restart, preRestart);
      append(restart, specs.slice(0, Math.min(RESTART_CONTEXT_LAYERS * perLayer, specs.length)));
      append(main, patched ? patchLayer(priorLastLayer, firstLayer[0]) : specs);
    } else {
      append(main, specs);
    }

    summaries.push({ firstTile: tiles[g.first].name.core, firstZ: startZ, layers: g.layers.length, tilesPerLayer: perLayer, restartCondition: g.restartCondition, patched });
    startZ += g.layers.length;
    priorCondition = g.restartCondition;
    priorLastLayer = specs.slice(-perLayer);
    preRestart = specs.slice(Math.max(specs.length - RESTART_CONTEXT_LAYERS * perLayer, 0));
  }

  checkUniqueIds(main);
  const z = setDistanceZ(main);
  const xy = roundHalfEven(pixelSize);
  return { main, restart: uniqueById(restart), resolution: { x: xy, y: xy, z }, groups: summaries };
}

function nameTiles(datTiles: DatTile[]): NamedTile[] {
  // Python's sorted() on names: by code point, never by locale.
  const sorted = [...datTiles].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const bad: string[] = [];
  const named: NamedTile[] = [];
  for (const t of sorted) {
    const name = parseTileName(t.name);
    if (name) named.push({ name, header: t.header });
    else bad.push(t.name);
  }
  if (bad.length > 0) {
    throw new FerryError(`${bad.length} .dat name(s) do not follow <scope>_yy-mm-dd_HHMMSS_<section>-<row>-<column>.dat with one-digit section, row and column, so they get no tile id: ${sample(bad)}`, {
      hint: 'the FlyEM import cannot name these tiles either; move them out of the dat folders, or rename them if they were misnamed',
      code: 'RenderBadDatName',
    });
  }
  for (const t of named) {
    if (t.header.PixelSize === 0) {
      throw new FerryError(`${t.name.core}.dat: header PixelSize is zero`, { hint: 'the header is damaged; fetch the file again from the microscope', code: 'RenderZeroPixelSize', exitCode: 1 });
    }
  }
  return named;
}

// The pipeline asserts that the first tile of each of its groups names the same sample (SampleID,
// or the notes before v9): tiles of two acquisitions in one folder would make one stack.
function checkSampleIds(tiles: NamedTile[], groups: LayerGroup[]): void {
  const expected = tiles[0].header.SampleID;
  const other = groups.find((g) => tiles[g.first].header.SampleID !== expected);
  if (other) {
    const t = tiles[other.first];
    throw new FerryError(`${t.name.core}.dat is from sample "${t.header.SampleID}", but ${tiles[0].name.core}.dat is from "${expected}": the dat folders mix two acquisitions`, {
      hint: 'move the other acquisition\'s files out of the tab\'s dat folders',
      code: 'RenderMixedSamples',
    });
  }
}

function groupTiles(tiles: NamedTile[], g: LayerGroup, startZ: number): PlannedTile[] {
  // Size and overlap come from the group's first header for every tile of the group.
  const header: TileHeader = tiles[g.first].header;
  const overlapPixels = TILE_OVERLAP_NM / header.PixelSize;
  const out: PlannedTile[] = [];
  g.layers.forEach((layer, i) => {
    const z = startZ + i;
    const sectionId = `${z}.0`;
    for (const index of layer) {
      const { name, header: h } = tiles[index];
      out.push({
        tileId: `${name.baseId}.${sectionId}`,
        z,
        sectionId,
        core: name.core,
        row: name.row,
        col: name.col,
        stageX: h.FirstX ?? MARGIN + roundHalfEven(name.col * (header.XResolution - overlapPixels)),
        stageY: h.FirstY ?? MARGIN + roundHalfEven(name.row * (header.YResolution - overlapPixels)),
        width: header.XResolution,
        height: header.YResolution,
        workingDistance: h.WD,
      });
    }
  });
  return out;
}

/** Copies of the layer before a single-layer group, at the group's z, labelled as the group's tiles. */
function patchLayer(previousLayer: PlannedTile[], patchedFirst: PlannedTile): PlannedTile[] {
  return previousLayer.map((t) => ({
    ...t,
    tileId: `${t.tileId.slice(0, t.tileId.indexOf('.'))}.patch.${patchedFirst.sectionId}`,
    z: patchedFirst.z,
    sectionId: patchedFirst.sectionId,
    labels: patchedFirst.labels,
  }));
}

/** Sets distanceZ in place and returns the stack's z resolution (1 for a single tile, as renderapi fills in). */
function setDistanceZ(main: PlannedTile[]): number {
  if (main.length <= 1) return 1;
  let sum = 0;
  const previousWd = new Map<number, number>();
  for (const t of main) {
    const before = previousWd.get(t.col);
    if (before !== undefined) {
      t.distanceZ = (t.workingDistance - before) * 1_000_000;
      sum += t.distanceZ;
    }
    previousWd.set(t.col, t.workingDistance);
  }
  // Averaged over ALL tiles, including the first of each column that has no distanceZ.
  return Math.floor(sum / main.length + 0.5);
}

// render-ws stores tiles by id, so two tiles with one id would silently leave one (what the
// pipeline does with a two-digit column, read as its first digit): Ferry stops instead.
function checkUniqueIds(main: PlannedTile[]): void {
  const seen = new Map<string, PlannedTile>();
  const dupes: string[] = [];
  for (const t of main) {
    const other = seen.get(t.tileId);
    if (other) dupes.push(`${other.core} and ${t.core} are both ${t.tileId}`);
    else seen.set(t.tileId, t);
  }
  if (dupes.length > 0) {
    throw new FerryError(`${dupes.length} tile id(s) would be given to two tiles: ${sample(dupes)}`, {
      hint: 'the FlyEM name pattern reads one digit of row and column; a layout of 10 or more rows or columns cannot be imported this way',
      code: 'RenderDuplicateTileId',
    });
  }
}

// A loop, not push(...items): a group can hold all 120,000 tiles, more than a call takes arguments.
function append(to: PlannedTile[], items: PlannedTile[]): void {
  for (const t of items) to.push(t);
}

function uniqueById(tiles: PlannedTile[]): PlannedTile[] {
  const seen = new Set<string>();
  return tiles.filter((t) => !seen.has(t.tileId) && seen.add(t.tileId));
}

function sample(items: string[]): string {
  return items.length <= 5 ? items.join(', ') : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`;
}
