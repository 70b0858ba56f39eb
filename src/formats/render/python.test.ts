import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixed10, roundHalfEven, timedeltaSeconds } from './python.ts';

test('round() sends halves to the even neighbour, as Python 3 does', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 938.5, 937.5, -0.5, -1.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, 938, 938, 0, -2, 2, 3]);
});

test('timedelta.seconds drops whole days and never goes negative', () => {
  assert.equal(timedeltaSeconds(1000, 100), 900);
  assert.equal(timedeltaSeconds(86_400 + 10, 0), 10);
  assert.equal(timedeltaSeconds(86_400, 0), 0);
  assert.equal(timedeltaSeconds(0, 1), 86_399);
});

test('%.10f of the integers an affine carries', () => {
  assert.deepEqual([1, 0, -2625, 400].map(fixed10), ['1.0000000000', '0.0000000000', '-2625.0000000000', '400.0000000000']);
});
