import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runFerry } from '../../testing/cli.ts';
import { tempDir } from '../../testing/tree.ts';

test('demo --dir naming a file, or a path through one, is a usage error and the file is left alone', async () => {
  const dir = await tempDir('ferry-demo-dir-');
  const file = join(dir, 'notes.txt');
  await writeFile(file, 'keep me');
  for (const given of [file, join(file, 'sub')]) {
    const r = await runFerry(['demo', '--dir', given], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^ferry: --dir .*notes\.txt.* is a file, or a path through one, not a folder\n {2}give a folder for the demo/);
  }
  assert.equal(await readFile(file, 'utf8'), 'keep me');
});
