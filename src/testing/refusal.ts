// Asserting that a call fails as a user would see it: a FerryError with this code and message.
import assert from 'node:assert/strict';
import { FerryError } from '../errors.ts';

export async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<FerryError> {
  const e = await p.then(
    () => assert.fail(`expected a FerryError ${code}`),
    (err: unknown) => err,
  );
  assert.ok(e instanceof FerryError, String(e));
  assert.equal(e.code, code, e.message);
  assert.match(e.message, message);
  return e;
}
