import { test } from 'node:test';
import assert from 'node:assert/strict';
import { datTile } from '../../testing/render-acquisition.ts';
import { planStackTiles } from './plan.ts';
import { stackExpectation, stackNameProblem, stackVersionJson } from './stack.ts';

test('names as render-ws checks them: words of letters and digits joined by single underscores, 111 characters in all', () => {
  const n = { owner: 'Z0720_07m_VNC', project: 'Sec26', stack: 'v1_acquire_restart' };
  assert.equal(stackNameProblem(n), undefined);
  // The shared transfer description's project, as render-ws would see it.
  assert.match(stackNameProblem({ ...n, project: 'jrc_mus-cortex_1' })!, /^invalid project 'jrc_mus-cortex_1'/);
  assert.match(stackNameProblem({ ...n, stack: 'v1__acquire' })!, /^invalid stack/);
  assert.match(stackNameProblem({ ...n, owner: '_flyem' })!, /^invalid owner/);
  assert.match(stackNameProblem({ ...n, stack: '' })!, /^invalid stack/);
  // owner__project__stack__transform: 13 + 2 + 5 + 2 + s + 11 characters.
  assert.equal(stackNameProblem({ ...n, stack: 'a'.repeat(78) }), undefined);
  assert.match(stackNameProblem({ ...n, stack: 'a'.repeat(79) })!, /\(112 characters, at most 111\)/);
});

test('the StackVersion body: renderapi\'s keys, the time as render-ws writes times', () => {
  assert.equal(stackVersionJson({ x: 8, y: 8, z: 7 }, new Date(Date.UTC(2021, 8, 3, 10, 15, 0, 5))), '{"stackResolutionX":8,"stackResolutionY":8,"stackResolutionZ":7,"createTimestamp":"2021-09-03T10:15:00.005Z"}');
});

test('what COMPLETE should derive: tile count, distinct z as sections, bounds of the stage positions plus the tile size', () => {
  const plan = planStackTiles([
    datTile('21-08-23_084156', '0-0-0', { FirstX: -10, FirstY: 5 }),
    datTile('21-08-23_084156', '0-0-1', { FirstX: 80, FirstY: 5 }),
    datTile('21-08-23_084226', '0-0-0', { FirstX: -12, FirstY: 4 }),
    datTile('21-08-23_084226', '0-0-1', { FirstX: 81, FirstY: 4 }),
  ]);
  assert.deepEqual(stackExpectation(plan.main), { tileCount: 4, sectionCount: 2, zValues: [1, 2], bounds: { minX: -12, minY: 4, minZ: 1, maxX: 181, maxY: 105, maxZ: 2 } });
});
