// Tile specs as JSON, exactly as the FlyEM pipeline sends them to render-ws. dat_to_render.py builds
// each spec as a dict (with minX..maxY and layout.workingDistance), then renderapi re-serialises it
// (render-python TileSpec.from_dict/to_dict, Layout, MipMap, AffineModel, at the 2021-22 develop
// state the pipeline ran): keys in renderapi's order, bounds and workingDistance dropped (renderapi
// does not model them, so render-ws derives the bounds: deriveData=true), labels and groupId only
// when set, and the affine's dataString rewritten as six numbers with ten decimals.
import type { PlannedTile } from './plan.ts';
import { fixed10 } from './python.ts';

export const AFFINE_CLASS = 'mpicbg.trakem2.transform.AffineModel2D';
/** dat_to_render.py's default --mask_width (left margin masked, in pixels); the seed keeps it. */
export const MASK_WIDTH = 100;
/** render-ws fills this into every stored tile spec (RenderParameters.DEFAULT_MESH_CELL_SIZE). */
export const DEFAULT_MESH_CELL_SIZE = 64;

/** Where the tiles' images are: the InLens PNG folder, and the mask folder if masks are used. */
export interface TileImages {
  inLensDir: string;
  maskDir?: string;
}

export interface LeafTransformJson {
  type: 'leaf';
  className: string;
  dataString: string;
}

export interface TileSpecJson {
  tileId: string;
  z: number;
  width: number;
  height: number;
  minIntensity: number;
  maxIntensity: number;
  layout: { sectionId: string; imageRow: number; imageCol: number; stageX: number; stageY: number; distanceZ?: number };
  mipmapLevels: Record<string, { imageUrl: string; maskUrl?: string }>;
  transforms: { type: 'list'; specList: LeafTransformJson[] };
  labels?: string[];
  groupId?: string;
}

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** The spec as renderapi sends it. */
export function tileSpecJson(t: PlannedTile, images: TileImages): TileSpecJson {
  const layout: TileSpecJson['layout'] = { sectionId: t.sectionId, imageRow: t.row, imageCol: t.col, stageX: t.stageX, stageY: t.stageY };
  if (t.distanceZ !== undefined) layout.distanceZ = t.distanceZ;
  const level0: { imageUrl: string; maskUrl?: string } = { imageUrl: `file:${images.inLensDir}/${t.core}-InLens.png` };
  if (images.maskDir !== undefined) level0.maskUrl = `file:${images.maskDir}/mask_${t.width}x${t.height}_left_${MASK_WIDTH}.tif`;
  const spec: TileSpecJson = {
    tileId: t.tileId,
    z: t.z,
    width: t.width,
    height: t.height,
    minIntensity: 0,
    maxIntensity: 255,
    layout,
    mipmapLevels: { '0': level0 },
    transforms: { type: 'list', specList: [{ type: 'leaf', className: AFFINE_CLASS, dataString: affineDataString(t.stageX, t.stageY) }] },
  };
  if (t.labels && t.labels.length > 0) spec.labels = t.labels;
  if (t.groupId !== undefined) spec.groupId = t.groupId;
  return spec;
}

/** A translation as renderapi's AffineModel writes it: m00 m10 m01 m11 m02 m12, `%.10f` each. */
export function affineDataString(x: number, y: number): string {
  return [1, 0, 0, 1, x, y].map(fixed10).join(' ');
}

/** The bounds render-ws derives for an untransformed tile moved by (stageX, stageY). */
export function tileBounds(t: PlannedTile): Bounds {
  return { minX: t.stageX, minY: t.stageY, maxX: t.stageX + t.width, maxY: t.stageY + t.height };
}

/** The body of `PUT .../resolvedTiles`: no shared transforms, tiles keyed by id. */
export function resolvedTilesJson(tiles: PlannedTile[], images: TileImages): string {
  const byId: Record<string, TileSpecJson> = {};
  for (const t of tiles) byId[t.tileId] = tileSpecJson(t, images);
  return JSON.stringify({ transformIdToSpecMap: {}, tileIdToSpecMap: byId });
}
