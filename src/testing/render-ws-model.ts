// What render-ws does with the JSON it is sent, for the test server (render-ws.ts): Jackson's reading
// into render's model (saalfeldlab/render TileSpec, LayoutData, ImageAndMask, TransformSpec and its
// subtypes, StackVersion; unknown properties ignored, wrong types refused), the bounding box derived
// from the transforms (TileSpec.deriveBoundingBox, the "sloppy" border sampling), the checks of
// ResolvedTileSpecCollection, and the stats a COMPLETE stack gets (RenderDao
// .ensureIndexesAndDeriveStats). Stored tiles are kept as render writes them back: Java field order,
// nulls left out, labels in the order of a Java HashSet. Only AffineModel2D leaf transforms can be
// evaluated here; a stack of other transforms is refused with a message that says so.

/** A refusal: render-ws answers `status` with `message` as text/plain. */
export class RenderWsRefusal extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const bad = (message: string) => new RenderWsRefusal(400, message);

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// Jackson's coercions for the scalar types render's model uses.
function asDouble(v: Json | undefined, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw bad(`Cannot deserialize value of type \`java.lang.Double\` from ${JSON.stringify(v)} (through reference chain: ${field})`);
}

function asInteger(v: Json | undefined, field: string): number | undefined {
  const d = asDouble(v, field);
  return d === undefined ? undefined : Math.trunc(d); // ACCEPT_FLOAT_AS_INT
}

function asString(v: Json | undefined, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw bad(`Cannot deserialize value of type \`java.lang.String\` from ${Array.isArray(v) ? 'Array' : 'Object'} value (through reference chain: ${field})`);
}

function asObj(v: Json | undefined, field: string, javaType: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw bad(`Cannot deserialize value of type \`${javaType}\` from ${Array.isArray(v) ? 'Array' : typeof v} value (through reference chain: ${field})`);
  return v;
}

/** Drops undefined members, as Jackson's NON_NULL inclusion does. */
function compact(o: Record<string, Json | undefined>): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

type Reader = (v: Json | undefined, field: string) => Json | undefined;

/** A Java class's fields, in declaration order, each read with its type's reader. */
function readFields(o: Obj, path: string, fields: Record<string, Reader>): Obj {
  return compact(Object.fromEntries(Object.entries(fields).map(([k, read]) => [k, read(o[k], `${path}.${k}`)])));
}

// --- transforms -------------------------------------------------------------------------------

export type TransformModel =
  | { type: 'leaf'; id?: string; metaData?: Obj; className?: string; dataString?: string }
  | { type: 'list'; id?: string; metaData?: Obj; specList: TransformModel[] }
  | { type: 'ref'; id?: string; metaData?: Obj; refId?: string }
  | { type: 'interpolated'; id?: string; metaData?: Obj; a?: TransformModel; b?: TransformModel; lambda?: number };

const TRANSFORM_TYPES = ['leaf', 'list', 'ref', 'interpolated'];

/** A TransformSpec; `declared` is the Java type the field declares (TileSpec.transforms is a ListTransformSpec). */
export function readTransform(v: Json | undefined, field: string, declared: 'TransformSpec' | 'ListTransformSpec'): TransformModel | undefined {
  const o = asObj(v, field, `org.janelia.alignment.spec.${declared}`);
  if (!o) return undefined;
  // TransformSpec's defaultImpl is LeafTransformSpec: no "type" means a leaf, which is not a list.
  const type = o.type === undefined || o.type === null ? 'leaf' : asString(o.type, `${field}.type`)!;
  if (!TRANSFORM_TYPES.includes(type) || (declared === 'ListTransformSpec' && type !== 'list')) {
    throw bad(`Could not resolve type id '${type}' as a subtype of \`org.janelia.alignment.spec.${declared}\`: known type ids = [${declared === 'ListTransformSpec' ? 'list' : TRANSFORM_TYPES.join(', ')}] (through reference chain: ${field})`);
  }
  const id = asString(o.id, `${field}.id`);
  const metaData = asObj(o.metaData, `${field}.metaData`, 'org.janelia.alignment.spec.TransformSpecMetaData');
  switch (type) {
    case 'leaf':
      return { type, ...compact({ id, metaData, className: asString(o.className, `${field}.className`), dataString: asString(o.dataString, `${field}.dataString`) }) };
    case 'ref':
      return { type, ...compact({ id, metaData, refId: asString(o.refId, `${field}.refId`) }) };
    case 'interpolated':
      return {
        type,
        ...compact({ id, metaData, lambda: asDouble(o.lambda, `${field}.lambda`) }),
        a: readTransform(o.a, `${field}.a`, 'TransformSpec'),
        b: readTransform(o.b, `${field}.b`, 'TransformSpec'),
      } as TransformModel;
    default: {
      if (o.specList !== undefined && o.specList !== null && !Array.isArray(o.specList)) throw bad(`Cannot deserialize value of type \`java.util.ArrayList\` from Object value (through reference chain: ${field}.specList)`);
      const specList = ((o.specList as Json[] | undefined) ?? []).map((s, i) => readTransform(s, `${field}.specList[${i}]`, 'TransformSpec')!);
      return { type: 'list', ...compact({ id, metaData }), specList };
    }
  }
}

function unresolvedIds(t: TransformModel, known: Map<string, TransformModel>, out: string[]): string[] {
  if (t.type === 'ref' && (t.refId === undefined || !known.has(t.refId))) out.push(String(t.refId));
  if (t.type === 'list') for (const s of t.specList) unresolvedIds(s, known, out);
  if (t.type === 'interpolated') for (const s of [t.a, t.b]) if (s) unresolvedIds(s, known, out);
  return out;
}

type Point = [number, number];

function applyTransform(t: TransformModel, known: Map<string, TransformModel>, p: Point): Point {
  switch (t.type) {
    case 'list':
      return t.specList.reduce((q, s) => applyTransform(s, known, q), p);
    case 'ref':
      return applyTransform(known.get(t.refId!)!, known, p);
    case 'interpolated':
      throw bad('interpolated transforms cannot be evaluated by this test server');
    default: {
      if (t.className === undefined) throw bad(`no className defined for leaf transform spec with id '${t.id ?? null}'`);
      if (t.className !== 'mpicbg.trakem2.transform.AffineModel2D') throw bad(`transform class '${t.className}' cannot be found (this test server evaluates only mpicbg.trakem2.transform.AffineModel2D)`);
      if (t.dataString === undefined) throw bad(`no dataString defined for leaf transform spec with id '${t.id ?? null}'`);
      const m = t.dataString.split(/\s+/).map(Number);
      if (m.length !== 6 || m.some((x) => !Number.isFinite(x))) throw bad('Inappropriate parameters for mpicbg.trakem2.transform.AffineModel2D');
      const [m00, m10, m01, m11, m02, m12] = m;
      return [m00 * p[0] + m01 * p[1] + m02, m10 * p[0] + m11 * p[1] + m12];
    }
  }
}

// --- tile specs --------------------------------------------------------------------------------

export const DEFAULT_MESH_CELL_SIZE = 64;

/** A tile spec as render-ws stores and returns it. */
export type TileModel = Obj & { tileId: string; z?: number; minX?: number; minY?: number; maxX?: number; maxY?: number; width?: number; height?: number; meshCellSize: number };

const LOADER_TYPES = ['IMAGEJ_DEFAULT', 'H5_SLICE', 'DYNAMIC_MASK', 'N5', 'ZARR', 'TIFF_SLICE'];

function readLoaderType(v: Json | undefined, field: string): string | undefined {
  const s = asString(v, field);
  if (s !== undefined && !LOADER_TYPES.includes(s)) throw bad(`Cannot deserialize value of type \`org.janelia.alignment.loader.ImageLoader$LoaderType\` from String "${s}": not one of the values accepted for Enum class: [${LOADER_TYPES.join(', ')}] (through reference chain: ${field})`);
  return s;
}

const IMAGE_AND_MASK: Record<string, Reader> = { imageUrl: asString, imageLoaderType: readLoaderType, imageSliceNumber: asInteger, maskUrl: asString, maskLoaderType: readLoaderType, maskSliceNumber: asInteger };
const LAYOUT: Record<string, Reader> = { sectionId: asString, temca: asString, camera: asString, imageRow: asInteger, imageCol: asInteger, stageX: asDouble, stageY: asDouble, rotation: asDouble, pixelsize: asDouble, distanceZ: asDouble };

function readMipmapLevels(v: Json | undefined, field: string): Obj | undefined {
  const levels = asObj(v, field, 'java.util.TreeMap');
  if (!levels) return undefined;
  const keys = Object.keys(levels).map((k) => {
    if (!/^[+-]?\d+$/.test(k.trim())) throw bad(`Cannot deserialize Map key of type \`java.lang.Integer\` from String "${k}": not a valid \`java.lang.Integer\` representation (through reference chain: ${field})`);
    return [Number(k), k] as const;
  });
  const out: Obj = {};
  for (const [n, k] of keys.sort((a, b) => a[0] - b[0])) out[String(n)] = readFields(asObj(levels[k], `${field}["${k}"]`, 'org.janelia.alignment.ImageAndMask') ?? {}, `${field}["${k}"]`, IMAGE_AND_MASK);
  return out;
}

function readLabels(v: Json | undefined, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw bad(`Cannot deserialize value of type \`java.util.HashSet<java.lang.String>\` from Object value (through reference chain: ${field})`);
  return javaHashSetOrder(v.map((x, i) => asString(x, `${field}[${i}]`)!));
}

const TILE_SPEC: Record<string, Reader> = {
  tileId: asString,
  layout: (v, f) => {
    const l = asObj(v, f, 'org.janelia.alignment.spec.LayoutData');
    return l && readFields(l, f, LAYOUT);
  },
  groupId: asString,
  z: asDouble,
  minX: asDouble,
  minY: asDouble,
  maxX: asDouble,
  maxY: asDouble,
  width: asDouble,
  height: asDouble,
  minIntensity: asDouble,
  maxIntensity: asDouble,
  mipmapLevels: readMipmapLevels,
  channels: (v) => v,
  mipmapPathBuilder: (v) => v,
  transforms: (v, f) => readTransform(v, f, 'ListTransformSpec') as Json | undefined,
  meshCellSize: (v, f) => asDouble(v, f) ?? DEFAULT_MESH_CELL_SIZE,
  labels: readLabels,
};

/** A TileSpec; its fields come out in render's declaration order (the order Jackson writes them back). */
export function readTileSpec(v: Json, field: string): TileModel {
  const t = readFields(asObj(v, field, 'org.janelia.alignment.spec.TileSpec') ?? {}, field, TILE_SPEC) as TileModel;
  // render-ws would store a tile without an id; this server refuses it so that such a client bug shows.
  if (t.tileId === undefined) throw bad(`tile spec ${field} has no tileId (refused by the test server)`);
  return t;
}

/** TileSpec.deriveBoundingBox(meshCellSize, force = true, sloppy = true). */
export function deriveBoundingBox(t: TileModel, known: Map<string, TransformModel>): void {
  if (t.width === undefined || t.height === undefined) throw new RenderWsRefusal(500, 'width and height must be set to create a bounding box');
  const w = t.width;
  const h = t.height;
  const cell = t.meshCellSize;
  const samples: Point[] = [];
  const numXs = Math.max(2, javaRound(w / cell));
  const dx = (w - 1) / (numXs - 1);
  for (let xi = 0; xi < numXs; xi++) samples.push([xi * dx, 0], [xi * dx, h]);
  const numYs = Math.max(2, javaRound(h / cell));
  const dy = (h - 1) / (numYs - 1);
  for (let yi = 0; yi < numYs; yi++) samples.push([0, yi * dy], [w, yi * dy]);
  const list = (t.transforms as TransformModel | undefined) ?? { type: 'list', specList: [] };
  let [xMin, yMin, xMax, yMax] = [Number.MAX_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, -Number.MAX_VALUE];
  for (const s of samples) {
    const [x, y] = applyTransform(list, known, s);
    xMin = Math.min(xMin, x);
    yMin = Math.min(yMin, y);
    xMax = Math.max(xMax, x);
    yMax = Math.max(yMax, y);
  }
  // new Rectangle((int) xMin, (int) yMin, (int) ceil(xMax - xMin), (int) ceil(yMax - yMin))
  t.minX = Math.trunc(xMin);
  t.minY = Math.trunc(yMin);
  t.maxX = t.minX + Math.trunc(Math.ceil(xMax - xMin));
  t.maxY = t.minY + Math.trunc(Math.ceil(yMax - yMin));
}

/** Java's Math.round(double): floor(x + 0.5). */
const javaRound = (x: number) => Math.floor(x + 0.5);

export interface ResolvedTileCollection {
  transforms: Map<string, TransformModel>;
  tiles: TileModel[];
}

/** The body of PUT resolvedTiles as Jackson reads it (before render-ws looks at the stack). */
export function readResolvedTiles(body: Json | undefined): ResolvedTileCollection {
  const o = asObj(body, 'ResolvedTileSpecCollection', 'org.janelia.alignment.spec.ResolvedTileSpecCollection');
  if (!o) throw bad('no resolved tiles provided');
  const transforms = new Map<string, TransformModel>();
  const tMap = asObj(o.transformIdToSpecMap, 'transformIdToSpecMap', 'java.util.HashMap') ?? {};
  for (const [id, spec] of Object.entries(tMap)) transforms.set(id, readTransform(spec, `transformIdToSpecMap["${id}"]`, 'TransformSpec')!);
  const tileMap = asObj(o.tileIdToSpecMap, 'tileIdToSpecMap', 'java.util.HashMap') ?? {};
  return { transforms, tiles: Object.entries(tileMap).map(([id, spec]) => readTileSpec(spec, `tileIdToSpecMap["${id}"]`)) };
}

/** The tile as render-ws writes it back: fields in declaration order (bounds derived later move into place). */
export function storedTile(t: TileModel): TileModel {
  return Object.fromEntries(Object.keys(TILE_SPEC).filter((k) => t[k] !== undefined).map((k) => [k, t[k]])) as TileModel;
}

/** What render-ws does before it saves: resolve references, derive bounds if asked, validate. */
export function prepareResolvedTiles({ transforms, tiles }: ResolvedTileCollection, deriveData: boolean): void {
  for (const t of tiles) {
    // render-ws resolves every tile's transform list; a tile without one fails there (a NullPointerException).
    if (!t.transforms) throw new RenderWsRefusal(500, `tile ${t.tileId} has no transforms (render-ws fails with a NullPointerException here)`);
    const missing = unresolvedIds(t.transforms as TransformModel, transforms, []);
    if (missing.length > 0) throw bad(`tile ${t.tileId} requires the following transform ids [${missing.join(', ')}]`);
  }
  if (deriveData) for (const t of tiles) deriveBoundingBox(t, transforms);
  if (tiles.length === 0) throw bad('collection does not have any tiles (maybe they were removed by a prior validation process)');
  for (const t of tiles) {
    if ([t.minX, t.minY, t.maxX, t.maxY].some((b) => b === undefined)) throw bad(`tile with id '${t.tileId}' is missing bounding box attributes (minX, minY, maxX, and/or maxY)`);
  }
}

// --- stacks ------------------------------------------------------------------------------------

export type StackState = 'LOADING' | 'COMPLETE' | 'READ_ONLY' | 'OFFLINE';
export const STACK_STATES: StackState[] = ['LOADING', 'COMPLETE', 'READ_ONLY', 'OFFLINE'];

// Jackson reads dates with render's lenient SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"), GMT:
// each field any number of digits, text after the final 'Z' ignored; a number is epoch milliseconds.
const ISO_LENIENT = /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)Z/;

function readDate(v: Json | undefined, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  const m = typeof v === 'string' ? ISO_LENIENT.exec(v) : null;
  if (!m) throw bad(`Cannot deserialize value of type \`java.util.Date\` from ${JSON.stringify(v)}: expected format "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'" (through reference chain: ${field})`);
  const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number);
  return Date.UTC(y, mo - 1, d, h, mi, s, ms); // lenient: out-of-range fields roll over, as Date.UTC does
}

const STACK_VERSION: Record<string, Reader> = {
  createTimestamp: (v, f) => {
    const ms = readDate(v, f);
    return ms === undefined ? undefined : new Date(ms).toISOString();
  },
  versionNotes: asString,
  cycleNumber: asInteger,
  cycleStepNumber: asInteger,
  stackResolutionX: asDouble,
  stackResolutionY: asDouble,
  stackResolutionZ: asDouble,
  materializedBoxRootPath: asString,
  mipmapPathBuilder: (v, f) => asObj(v, f, 'org.janelia.alignment.spec.stack.MipmapPathBuilder'),
  alignmentQuality: asDouble,
  defaultChannel: asString,
};

export function readStackVersion(body: Json | undefined): Obj {
  const o = asObj(body ?? undefined, 'StackVersion', 'org.janelia.alignment.spec.stack.StackVersion');
  if (!o) throw bad('no stack version provided');
  return readFields(o, 'StackVersion', STACK_VERSION);
}

export function readDoubleList(body: Json | undefined): (number | null)[] {
  if (!Array.isArray(body)) throw bad(`Cannot deserialize value of type \`java.util.ArrayList<java.lang.Double>\` from ${body === undefined ? 'empty body' : typeof body} value`);
  return body.map((v, i) => asDouble(v, `[${i}]`) ?? null);
}

/** StackStats as a COMPLETE stack carries them, or a 500 like render-ws's for a stack without tiles. */
export function deriveStats(tiles: Iterable<TileModel>, transformCount: number): Obj {
  const all = [...tiles];
  if (all.length === 0) {
    throw new RenderWsRefusal(500, 'Stack data aggregation returned no results because the stack has no tiles.  The aggregation query was render.<stack>__tile.aggregate(...) .');
  }
  const min = (f: (t: TileModel) => number | undefined) => Math.min(...all.map(f).filter((x): x is number => x !== undefined));
  const max = (f: (t: TileModel) => number | undefined) => Math.max(...all.map(f).filter((x): x is number => x !== undefined));
  const z = new Set(all.map((t) => t.z).filter((x): x is number => x !== undefined));
  return {
    stackBounds: { minX: min((t) => t.minX), minY: min((t) => t.minY), minZ: min((t) => t.z), maxX: max((t) => t.maxX), maxY: max((t) => t.maxY), maxZ: max((t) => t.z) },
    sectionCount: z.size,
    nonIntegralSectionCount: [...z].filter((v) => v > Math.trunc(v)).length,
    tileCount: all.length,
    transformCount,
    minTileWidth: Math.trunc(min((t) => t.maxX! - t.minX!)),
    maxTileWidth: Math.trunc(max((t) => t.maxX! - t.minX!)),
    minTileHeight: Math.trunc(min((t) => t.maxY! - t.minY!)),
    maxTileHeight: Math.trunc(max((t) => t.maxY! - t.minY!)),
    channelNames: [],
  };
}

// --- Java's HashSet iteration order ------------------------------------------------------------

function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** The order a java.util.HashSet<String> built from `values` iterates in (bucket order, then insertion). */
export function javaHashSetOrder(values: string[]): string[] {
  const unique = [...new Set(values)];
  let capacity = 16;
  while (unique.length > capacity * 0.75) capacity *= 2;
  const bucket = (s: string) => {
    const h = javaStringHash(s);
    return (h ^ (h >>> 16)) & (capacity - 1);
  };
  return unique.map((s, i) => [bucket(s), i, s] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((e) => e[2]);
}
