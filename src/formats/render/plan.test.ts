// Expected tiles worked out by hand from EM_recon_pipeline dat_to_render.py (34638ab) with the
// seed's options (--restart_context_layers 2, 2 µm overlap), not from Ferry's planner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError } from '../../errors.ts';
import { planStackTiles } from './plan.ts';
import type { PlannedTile } from './plan.ts';
import { REAL_HEADER, datTile } from '../../testing/render-acquisition.ts';
import { tileSpecJson } from './tile-spec.ts';
import type { DatTile } from './dat-tile.ts';

// One working-distance step: 2^-17 mm is exact in float32 and in double, so distanceZ is exact.
const STEP = 2 ** -17;
const DZ = STEP * 1e6; // 7.62939453125 nm
const IMAGES = { inLensDir: '/groups/flyem/data/Z0720-07m_VNC_Sec26/InLens', maskDir: '/groups/flyem/data/render/pre_iso/masks' };

/** A layer of tiles 0-0-0 .. 0-0-<cols-1> at `stamp`, FirstX 1000 + 90·col, WD 3.5 + z·STEP. */
function layer(stamp: string, z: number, cols: number, fields: Partial<typeof REAL_HEADER> = {}): DatTile[] {
  return Array.from({ length: cols }, (_, c) => datTile(`21-08-23_${stamp}`, `0-0-${c}`, { FirstX: 1000 + 90 * c, FirstY: 2000, WD: 3.5 + z * STEP, ...fields }));
}

type Row = [tileId: string, z: number, labels?: string[], groupId?: string, distanceZ?: number];
const row = (t: PlannedTile): Row => {
  const r: Row = [t.tileId, t.z];
  if (t.labels || t.groupId !== undefined || t.distanceZ !== undefined) r.push(t.labels, t.groupId, t.distanceZ);
  while (r.length > 2 && r[r.length - 1] === undefined) r.pop();
  return r;
};
const ids = (stamp: string, z: number, cols: number, ...rest: [string[]?, string?, number?]): Row[] =>
  Array.from({ length: cols }, (_, c) => {
    const r: Row = [`21-08-23_${stamp}_0-0-${c}.${z}.0`, z, ...rest];
    while (r.length > 2 && r[r.length - 1] === undefined) r.pop();
    return r;
  });

// Layers 1-3; 27 min pause; 4-6; StageX moved at 7 (a one-layer group: patched); StageZ moved at 8;
// 8-9; a third column from 10 on.
const MOVED_X = REAL_HEADER.StageX + 0.5;
const ACQUISITION = [
  ...layer('084156', 1, 2),
  ...layer('084226', 2, 2),
  ...layer('084256', 3, 2),
  ...layer('091000', 4, 2),
  ...layer('091030', 5, 2),
  ...layer('091100', 6, 2),
  ...layer('091130', 7, 2, { StageX: MOVED_X }),
  ...layer('091200', 8, 2, { StageX: MOVED_X, StageZ: 31 }),
  ...layer('091230', 9, 2, { StageX: MOVED_X, StageZ: 31 }),
  ...layer('091300', 10, 3, { StageX: MOVED_X, StageZ: 31 }),
  ...layer('091330', 11, 3, { StageX: MOVED_X, StageZ: 31 }),
].reverse(); // the planner sorts by name, as the pipeline does

test('restarts by time gap, changed header key and tile count: groups, z, labels, groupIds, patches', () => {
  const plan = planStackTiles(ACQUISITION);
  assert.deepEqual(
    plan.groups.map((g) => [g.firstTile, g.firstZ, g.layers, g.tilesPerLayer, g.restartCondition?.slice(0, g.restartCondition.indexOf(':')), g.patched]),
    [
      ['Merlin-6285_21-08-23_084156_0-0-0', 1, 3, 2, 'acquisition_delay', false],
      ['Merlin-6285_21-08-23_091000_0-0-0', 4, 3, 2, 'change_header_stagex', false],
      ['Merlin-6285_21-08-23_091130_0-0-0', 7, 1, 2, 'change_header_stagez', true],
      ['Merlin-6285_21-08-23_091200_0-0-0', 8, 2, 2, 'change_tile_count', false],
      ['Merlin-6285_21-08-23_091300_0-0-0', 10, 2, 3, undefined, false],
    ],
  );
  assert.equal(plan.groups[0].restartCondition, 'acquisition_delay: tile 21-08-23_091000_0-0-0 acquired 1624 seconds after tile 21-08-23_084256_0-0-1');
  assert.equal(plan.groups[3].restartCondition, 'change_tile_count: layer with tile 21-08-23_091330_0-0-0 has 3 instead of 2 tiles');

  const R = 'restart';
  assert.deepEqual(plan.main.map(row), [
    ...ids('084156', 1, 2),
    ...ids('084226', 2, 2, undefined, undefined, DZ),
    ...ids('084256', 3, 2, undefined, R, DZ),
    ...ids('091000', 4, 2, [R, 'acquisition_delay'], R, DZ),
    ...ids('091030', 5, 2, undefined, undefined, DZ),
    ...ids('091100', 6, 2, undefined, R, DZ),
    // the single layer 7 is replaced by copies of layer 6: same images and WD, so distanceZ 0
    ['21-08-23_091100_0-0-0.patch.7.0', 7, [R, 'change_header_stagex', 'patch'], R, 0],
    ['21-08-23_091100_0-0-1.patch.7.0', 7, [R, 'change_header_stagex', 'patch'], R, 0],
    // layer 8's WD is two steps from the patch's (layer 6's)
    ...ids('091200', 8, 2, [R, 'change_header_stagez'], R, 2 * DZ),
    ...ids('091230', 9, 2, undefined, R, DZ),
    // column 2 starts at layer 10: no distanceZ for its first tile
    ...ids('091300', 10, 2, [R, 'change_tile_count'], R, DZ),
    ['21-08-23_091300_0-0-2.10.0', 10, [R, 'change_tile_count'], R],
    ...ids('091330', 11, 3, undefined, undefined, DZ),
  ]);

  // Two layers either side of each restart; the patched layer's own tiles (no distanceZ: they are
  // not in the main stack), each tile once.
  assert.deepEqual(plan.restart.map(row), [
    ...ids('084226', 2, 2, undefined, undefined, DZ),
    ...ids('084256', 3, 2, undefined, R, DZ),
    ...ids('091000', 4, 2, [R, 'acquisition_delay'], R, DZ),
    ...ids('091030', 5, 2, undefined, undefined, DZ),
    ...ids('091100', 6, 2, undefined, R, DZ),
    ...ids('091130', 7, 2, [R, 'change_header_stagex', 'patch'], R),
    ...ids('091200', 8, 2, [R, 'change_header_stagez'], R, 2 * DZ),
    ...ids('091230', 9, 2, undefined, R, DZ),
    ...ids('091300', 10, 2, [R, 'change_tile_count'], R, DZ),
    ['21-08-23_091300_0-0-2.10.0', 10, [R, 'change_tile_count'], R],
    ...ids('091330', 11, 3, undefined, undefined, DZ),
  ]);

  // X/Y: round(7.99986); Z: floor(sum of distanceZ / ALL 24 main tiles + 0.5) = floor(160.217/24 + 0.5).
  // (Averaged over only the 21 tiles that have a distanceZ it would be 8.)
  assert.deepEqual(plan.resolution, { x: 8, y: 8, z: 7 });
});

test('a patch copy is sent exactly as renderapi serialises the pipeline\'s spec', () => {
  const patch = planStackTiles(ACQUISITION).main.find((t) => t.tileId === '21-08-23_091100_0-0-1.patch.7.0')!;
  assert.equal(
    JSON.stringify(tileSpecJson(patch, IMAGES)),
    JSON.stringify({
      tileId: '21-08-23_091100_0-0-1.patch.7.0',
      z: 7,
      width: 100,
      height: 100,
      minIntensity: 0,
      maxIntensity: 255,
      layout: { sectionId: '7.0', imageRow: 0, imageCol: 1, stageX: 1090, stageY: 2000, distanceZ: 0 },
      mipmapLevels: {
        '0': {
          imageUrl: 'file:/groups/flyem/data/Z0720-07m_VNC_Sec26/InLens/Merlin-6285_21-08-23_091100_0-0-1-InLens.png',
          maskUrl: 'file:/groups/flyem/data/render/pre_iso/masks/mask_100x100_left_100.tif',
        },
      },
      transforms: {
        type: 'list',
        specList: [{ type: 'leaf', className: 'mpicbg.trakem2.transform.AffineModel2D', dataString: '1.0000000000 0.0000000000 0.0000000000 1.0000000000 1090.0000000000 2000.0000000000' }],
      },
      labels: ['restart', 'change_header_stagex', 'patch'],
      groupId: 'restart',
    }),
  );
});

test('the real fixture\'s own position: FirstX/FirstY, no labels, no distanceZ, no mask without a mask folder', () => {
  const plan = planStackTiles([datTile('21-07-31_152727', '0-0-1')]);
  assert.deepEqual(tileSpecJson(plan.main[0], { inLensDir: '/data/InLens' }), {
    tileId: '21-07-31_152727_0-0-1.1.0',
    z: 1,
    width: 100,
    height: 100,
    minIntensity: 0,
    maxIntensity: 255,
    layout: { sectionId: '1.0', imageRow: 0, imageCol: 1, stageX: -2625, stageY: -1326 },
    mipmapLevels: { '0': { imageUrl: 'file:/data/InLens/Merlin-6285_21-07-31_152727_0-0-1-InLens.png' } },
    transforms: { type: 'list', specList: [{ type: 'leaf', className: 'mpicbg.trakem2.transform.AffineModel2D', dataString: '1.0000000000 0.0000000000 0.0000000000 1.0000000000 -2625.0000000000 -1326.0000000000' }] },
  });
  // One tile: no distanceZ to average, renderapi fills in 1.0.
  assert.deepEqual(plan.resolution, { x: 8, y: 8, z: 1 });
  assert.deepEqual(plan.restart, []);
});

test('time gaps ignore whole days: 1 day 10 s is a new layer, exactly 24 h later is the same layer', () => {
  const tiles = [
    datTile('21-08-23_084156', '0-0-0'),
    datTile('21-08-23_084156', '0-0-1'),
    datTile('21-08-24_084206', '0-0-0'),
    datTile('21-08-24_084206', '0-0-1'),
    datTile('21-08-25_084206', '0-0-0'),
    datTile('21-08-25_084206', '0-0-1'),
  ];
  // 24-08 and 25-08 (0 s apart for timedelta.seconds) make one layer of 4 tiles: a tile-count
  // restart, and that one-layer group is patched with copies of layer 1.
  const plan = planStackTiles(tiles);
  assert.deepEqual(plan.main.map((t) => [t.tileId, t.core]), [
    ['21-08-23_084156_0-0-0.1.0', 'Merlin-6285_21-08-23_084156_0-0-0'],
    ['21-08-23_084156_0-0-1.1.0', 'Merlin-6285_21-08-23_084156_0-0-1'],
    ['21-08-23_084156_0-0-0.patch.2.0', 'Merlin-6285_21-08-23_084156_0-0-0'],
    ['21-08-23_084156_0-0-1.patch.2.0', 'Merlin-6285_21-08-23_084156_0-0-1'],
  ]);
  assert.deepEqual(plan.restart.map((t) => [t.tileId, t.labels]), [
    ['21-08-23_084156_0-0-0.1.0', undefined],
    ['21-08-23_084156_0-0-1.1.0', undefined],
    ...['21-08-24_084206_0-0-0', '21-08-24_084206_0-0-1', '21-08-25_084206_0-0-0', '21-08-25_084206_0-0-1'].map((b) => [`${b}.2.0`, ['restart', 'change_tile_count', 'patch']]),
  ]);
  assert.equal(plan.groups[0].restartCondition, 'change_tile_count: layer with tile 21-08-25_084206_0-0-1 has 4 instead of 2 tiles');
});

test('a header change inside a layer drops the partial layer from the group, and single-layer groups are patched in a row', () => {
  const tiles = [
    datTile('21-08-23_084156', '0-0-0'),
    datTile('21-08-23_084156', '0-0-1'),
    datTile('21-08-23_084226', '0-0-0'),
    datTile('21-08-23_084226', '0-0-1', { StageR: 10 }),
    datTile('21-08-23_084256', '0-0-0', { StageR: 10 }),
    datTile('21-08-23_084256', '0-0-1', { StageR: 10 }),
  ];
  const plan = planStackTiles(tiles);
  assert.deepEqual(
    plan.groups.map((g) => [g.firstTile.slice(-15), g.layers, g.tilesPerLayer, g.restartCondition?.replace(/: .*?(, not adding.*)?$/, (_, tail) => (tail ? ' (partial layer)' : '')), g.patched]),
    [
      ['23_084156_0-0-0', 1, 2, 'change_header_stager (partial layer)', false],
      ['23_084226_0-0-0', 1, 1, 'change_header_stager', true],
      ['23_084226_0-0-1', 1, 1, 'change_tile_count', true],
      ['23_084256_0-0-0', 1, 2, undefined, true],
    ],
  );
  assert.deepEqual(plan.main.map((t) => [t.tileId, t.labels?.join(' ')]), [
    ['21-08-23_084156_0-0-0.1.0', undefined],
    ['21-08-23_084156_0-0-1.1.0', undefined],
    ['21-08-23_084156_0-0-0.patch.2.0', 'restart change_header_stager patch'],
    ['21-08-23_084156_0-0-1.patch.2.0', 'restart change_header_stager patch'],
    ['21-08-23_084226_0-0-0.patch.3.0', 'restart change_header_stager patch'],
    ['21-08-23_084226_0-0-1.patch.4.0', 'restart change_tile_count patch'],
  ]);
});

test('without FirstX/FirstY (before version 9): 400 + round(col·(width − 2000/PixelSize)), halves to even', () => {
  // PixelSize 32: the overlap is 62.5 px, so column 1 of a 1001-px tile sits at 400 + round(938.5) = 1338.
  const old = { FirstX: undefined, FirstY: undefined, PixelSize: 32, XResolution: 1001, YResolution: 1001 };
  const plan = planStackTiles([datTile('21-08-23_084156', '0-0-0', old), datTile('21-08-23_084156', '0-0-1', old), datTile('21-08-23_084156', '0-1-2', old)]);
  assert.deepEqual(plan.main.map((t) => [t.stageX, t.stageY]), [[400, 400], [1338, 400], [2277, 1338]]);
  assert.equal(tileSpecJson(plan.main[1], IMAGES).mipmapLevels['0'].maskUrl, 'file:/groups/flyem/data/render/pre_iso/masks/mask_1001x1001_left_100.tif');
});

test('PixelSize: steps under 0.5 are one group; the stack resolution is the LAST group\'s, rounded half to even', () => {
  const stamps = ['084156', '084226', '084256', '084326'];
  const sizes = (last: number) => [8, 8.4, last, last];
  const tiles = (last: number) => stamps.flatMap((s, i) => ['0-0-0', '0-0-1'].map((k) => datTile(`21-08-23_${s}`, k, { PixelSize: sizes(last)[i] })));
  const drift = planStackTiles(tiles(8.4));
  assert.deepEqual(drift.groups.map((g) => [g.firstZ, g.layers, g.restartCondition]), [[1, 4, undefined]]);
  assert.equal(drift.resolution.x, 8);

  const moved = planStackTiles(tiles(9.4));
  assert.deepEqual(moved.groups.map((g) => [g.firstZ, g.restartCondition?.split(':')[0]]), [[1, 'change_header_pixelsize'], [3, undefined]]);
  assert.deepEqual(moved.resolution, { x: 9, y: 9, z: 0 });

  // 8.5 - 8 is not under 0.5: a restart; round(8.5) is 8 in Python (JavaScript's Math.round says 9).
  assert.equal(planStackTiles(tiles(8.5)).resolution.x, 8);
});

test('a last layer of one tile with a new timestamp is a group of its own, without a restart', () => {
  const plan = planStackTiles(['084156', '084226', '084256'].map((s) => datTile(`21-08-23_${s}`, '0-0-0')));
  assert.deepEqual(plan.groups.map((g) => [g.firstZ, g.layers, g.restartCondition, g.patched]), [[1, 2, undefined, false], [3, 1, undefined, false]]);
  assert.deepEqual(plan.main.map((t) => t.tileId), ['21-08-23_084156_0-0-0.1.0', '21-08-23_084226_0-0-0.2.0', '21-08-23_084256_0-0-0.3.0']);
});

test('names the pipeline cannot read and tile ids it would give twice are refused, naming the files', () => {
  const refused = (tiles: DatTile[], code: string, pattern: RegExp) =>
    assert.throws(
      () => planStackTiles(tiles),
      (e: unknown) => e instanceof FerryError && e.code === code && pattern.test(e.message),
    );
  refused([datTile('21-08-23_084156', '0-10-0'), datTile('21-08-23_084156', '0-0-0')], 'RenderBadDatName', /1 \.dat name.*Merlin-6285_21-08-23_084156_0-10-0\.dat/);
  refused([datTile('21-08-23_084156', '0-0-1'), datTile('21-08-23_084156', '0-0-12')], 'RenderDuplicateTileId', /Merlin-6285_21-08-23_084156_0-0-1 and Merlin-6285_21-08-23_084156_0-0-12 are both 21-08-23_084156_0-0-1\.1\.0/);
  refused([datTile('21-08-23_084156', '0-0-0', { PixelSize: 0 })], 'RenderZeroPixelSize', /PixelSize is zero/);
  refused([], 'RenderNoTiles', /no \.dat files/);
});

test('tiles of another sample at the start of a group are refused (the pipeline asserts the same)', () => {
  const tiles = [datTile('21-08-23_084156', '0-0-0'), datTile('21-08-23_093000', '0-0-0', { SampleID: 'Z0720-07m_VNC_Sec07' })];
  assert.throws(() => planStackTiles(tiles), /Merlin-6285_21-08-23_093000_0-0-0\.dat is from sample "Z0720-07m_VNC_Sec07", but .* is from "Z0720-07m_VNC_Sec06"/);
});

test('an acquisition of 150,000 tiles without a restart is one group', () => {
  // 75,000 layers of two tiles, a second apart.
  const tiles = Array.from({ length: 75_000 }, (_, i) => {
    const hms = [Math.floor(i / 3600), Math.floor(i / 60) % 60, i % 60].map((n) => String(n).padStart(2, '0')).join('');
    return ['0-0-0', '0-0-1'].map((k) => datTile(`21-08-23_${hms}`, k));
  }).flat();
  const plan = planStackTiles(tiles);
  assert.equal(plan.groups.length, 1);
  assert.equal(plan.main.length, 150_000);
  assert.equal(plan.main.at(-1)!.z, 75_000);
});
