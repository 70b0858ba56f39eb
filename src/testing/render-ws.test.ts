// The render-ws stand-in refuses what render-ws refuses and derives what render-ws derives; these
// pin it, so tests against it mean something.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startRenderWs } from './render-ws.ts';
import type { TestRenderWs } from './render-ws.ts';
import { javaHashSetOrder } from './render-ws-model.ts';

let ws: TestRenderWs;
before(async () => {
  ws = await startRenderWs();
});
after(() => ws.close());

const stackUrl = (stack: string, sub = '') => `${ws.url}/owner/flyem/project/Z0720_07m_VNC/stack/${stack}${sub}`;
async function call(method: string, url: string, body?: unknown): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, text: await r.text() };
}

const VERSION = { stackResolutionX: 8, stackResolutionY: 8, stackResolutionZ: 8, createTimestamp: '2021-09-03T10:15:00.000Z' };
const affine = (x: number, y: number) => ({ type: 'leaf', className: 'mpicbg.trakem2.transform.AffineModel2D', dataString: `1 0 0 1 ${x} ${y}` });
const tile = (id: string, z: number, x: number, y: number, extra: Record<string, unknown> = {}) => ({
  tileId: id,
  z,
  width: 100,
  height: 50,
  layout: { sectionId: `${z}.0`, imageRow: 0, imageCol: 0, stageX: x, stageY: y, workingDistance: 3.42 },
  mipmapLevels: { '0': { imageUrl: `file:/InLens/${id}.png` } },
  transforms: { type: 'list', specList: [affine(x, y)] },
  ...extra,
});
const tiles = (...specs: ReturnType<typeof tile>[]) => ({ transformIdToSpecMap: {}, tileIdToSpecMap: Object.fromEntries(specs.map((t) => [t.tileId, t])) });

test('names with hyphens, double underscores or too long are refused with render-ws\'s message', async () => {
  const r = await call('POST', `${ws.url}/owner/flyem/project/jrc_mus-cortex_1/stack/v1`, VERSION);
  assert.equal(r.status, 400);
  assert.match(r.text, /^invalid project 'jrc_mus-cortex_1' specified, names may only contain alphanumeric or underscore/);
  assert.equal((await call('GET', stackUrl('v1__acquire'))).status, 400);
  const long = (await call('GET', stackUrl(`v${'x'.repeat(80)}`))).text;
  assert.match(long, /must be less than 111 characters/);
});

test('a createTimestamp not in yyyy-MM-dd\'T\'HH:mm:ss.SSS\'Z\' is refused; render-ws\'s lenient parser takes the rest', async () => {
  assert.equal((await call('POST', stackUrl('ts_bad'), { ...VERSION, createTimestamp: '2021-09-03 10:15:00' })).status, 400);
  assert.equal((await call('POST', stackUrl('ts_bad'), { ...VERSION, createTimestamp: '2021-09-03T10:15:00Z' })).status, 400);
  // renderapi's own default, two fraction digits, parses.
  assert.equal((await call('POST', stackUrl('ts_ok'), { ...VERSION, createTimestamp: '2021-09-03T10:15:00.00Z' })).status, 201);
  assert.equal(ws.stack('flyem', 'Z0720_07m_VNC', 'ts_ok')!.version.createTimestamp, '2021-09-03T10:15:00.000Z');
});

test('tiles: transforms must be a list, references must resolve in the body, bounds need deriveData, and only a LOADING stack takes them', async () => {
  assert.equal((await call('POST', stackUrl('strict'), VERSION)).status, 201);
  const put = (body: unknown, derive = true) => call('PUT', stackUrl('strict', `/resolvedTiles${derive ? '?deriveData=true' : ''}`), body);

  const notList = await put(tiles({ ...tile('a', 1, 0, 0), transforms: affine(0, 0) } as never));
  assert.equal(notList.status, 400);
  assert.match(notList.text, /Could not resolve type id 'leaf' as a subtype of `org\.janelia\.alignment\.spec\.ListTransformSpec`/);

  const unresolved = await put(tiles({ ...tile('a', 1, 0, 0), transforms: { type: 'list', specList: [{ type: 'ref', refId: 'SEM_correct' }] } } as never));
  assert.equal(unresolved.status, 400);
  assert.equal(unresolved.text, 'tile a requires the following transform ids [SEM_correct]');
  const resolved = await put({ transformIdToSpecMap: { SEM_correct: affine(5, 5) }, tileIdToSpecMap: { a: { ...tile('a', 1, 0, 0), transforms: { type: 'list', specList: [{ type: 'ref', refId: 'SEM_correct' }] } } } });
  assert.equal(resolved.status, 201);

  const noBounds = await put(tiles(tile('b', 1, 0, 0)), false);
  assert.equal(noBounds.status, 400);
  assert.match(noBounds.text, /tile with id 'b' is missing bounding box attributes/);
  assert.equal((await put(tiles(tile('b', 1, 0, 0, { minX: 0, minY: 0, maxX: 100, maxY: 50 })), false)).status, 201);

  assert.equal((await put(tiles())).status, 400);
  assert.equal((await call('PUT', stackUrl('strict', '/state/COMPLETE'))).status, 201);
  const closed = await put(tiles(tile('c', 2, 0, 0)));
  assert.equal(closed.status, 500);
  assert.equal(closed.text, "Resolved tiles can only be saved to stacks in the LOADING state, but this stack's state is COMPLETE.");
  assert.equal((await call('PUT', stackUrl('nowhere', '/resolvedTiles?deriveData=true'), tiles(tile('c', 2, 0, 0)))).status, 404);
});

test('COMPLETE derives bounds and stats as render-ws does; an empty stack cannot be COMPLETE', async () => {
  assert.equal((await call('POST', stackUrl('stats'), VERSION)).status, 201);
  const empty = await call('PUT', stackUrl('stats', '/state/COMPLETE'));
  assert.equal(empty.status, 500);
  assert.match(empty.text, /^Stack data aggregation returned no results because the stack has no tiles/);

  // Unknown properties (workingDistance) are dropped; labels come back in a Java HashSet's order.
  const labels = ['restart', 'change_header_stagez', 'patch'];
  await call('PUT', stackUrl('stats', '/resolvedTiles?deriveData=true'), tiles(tile('t1', 1, -2625, -1326, { labels }), tile('t2', 1, -2535, -1326), tile('t3', 2, -2625.5, 10)));
  assert.equal((await call('PUT', stackUrl('stats', '/state/COMPLETE'))).status, 201);
  const meta = JSON.parse((await call('GET', stackUrl('stats'))).text);
  assert.equal(meta.state, 'COMPLETE');
  assert.deepEqual(meta.stats, {
    // t3's x of -2625.5 becomes -2625: render's (int) cast cuts towards zero (a floor would give -2626).
    stackBounds: { minX: -2625, minY: -1326, minZ: 1, maxX: -2435, maxY: 60, maxZ: 2 },
    sectionCount: 2,
    nonIntegralSectionCount: 0,
    tileCount: 3,
    transformCount: 0,
    minTileWidth: 100,
    maxTileWidth: 100,
    minTileHeight: 50,
    maxTileHeight: 50,
    channelNames: [],
  });
  const layer = JSON.parse((await call('GET', stackUrl('stats', '/z/1/resolvedTiles'))).text);
  const t1 = layer.tileIdToSpecMap.t1;
  assert.deepEqual(Object.keys(t1), ['tileId', 'layout', 'z', 'minX', 'minY', 'maxX', 'maxY', 'width', 'height', 'mipmapLevels', 'transforms', 'meshCellSize', 'labels']);
  assert.deepEqual(t1.layout, { sectionId: '1.0', imageRow: 0, imageCol: 0, stageX: -2625, stageY: -1326 });
  assert.deepEqual([t1.minX, t1.minY, t1.maxX, t1.maxY, t1.meshCellSize], [-2625, -1326, -2525, -1276, 64]);
  assert.deepEqual(t1.labels, javaHashSetOrder(labels));
  assert.deepEqual(JSON.parse((await call('GET', stackUrl('stats', '/zValues'))).text), [1, 2]);
  assert.deepEqual(JSON.parse((await call('GET', stackUrl('stats', '/tileIds'))).text), ['t1', 't2', 't3']);
  assert.equal((await call('GET', stackUrl('stats', '/z/3/resolvedTiles'))).status, 404);
});

test('state changes render-ws refuses, and OFFLINE drops the tiles', async () => {
  await call('POST', stackUrl('states'), VERSION);
  await call('PUT', stackUrl('states', '/resolvedTiles?deriveData=true'), tiles(tile('t', 1, 0, 0)));
  const early = await call('PUT', stackUrl('states', '/state/READ_ONLY'));
  assert.equal(early.status, 400);
  assert.match(early.text, /must first be transitioned to COMPLETE before transitioning it to READ_ONLY/);
  await call('PUT', stackUrl('states', '/state/COMPLETE'));
  assert.equal((await call('PUT', stackUrl('states', '/state/READ_ONLY'))).status, 201);
  const version = await call('POST', stackUrl('states'), VERSION);
  assert.equal(version.status, 500);
  assert.equal(version.text, 'Data for stack states cannot be modified because it is READ_ONLY.');
  assert.equal((await call('PUT', stackUrl('states', '/state/OFFLINE'))).status, 201);
  assert.deepEqual(JSON.parse((await call('GET', stackUrl('states', '/tileIds'))).text), []);
  assert.equal((await call('DELETE', stackUrl('states', '/tile/t'))).status, 400);
});

test('Java HashSet order: by bucket of the spread String.hashCode, then insertion', () => {
  // Of 16 buckets, "a" (97) and "q" (113) land in bucket 1, "b" (98) in bucket 2.
  assert.deepEqual(javaHashSetOrder(['b', 'q', 'a']), ['q', 'a', 'b']);
});
