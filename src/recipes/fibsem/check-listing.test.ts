// `ferry fibsem check` and `repair --dry-run` with a saved scope listing (no SSH), and the messages
// for a tab that cannot be checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jsonLines, runFerry } from '../../testing/cli.ts';
import { snapshot, tempDir } from '../../testing/tree.ts';
import { makeStageFolders, scopePath, testTabLayout, tileBytes, writeStages, writeTabYaml } from '../../testing/fibsem-tab.ts';

const tiles = ['084156', '084212', '084230'].map((t) => `Merlin-6285_21-08-23_${t}_0-0-0`);

test('a saved listing stands in for the scope; repair --dry-run plans from its paths and changes nothing', async () => {
  const l = testTabLayout(await tempDir('ferry-fibsem-listing-'));
  try {
    await makeStageFolders(l);
    for (const c of [tiles[0], tiles[2]]) await writeStages(l, c, { transferred: true, archive: true, png: true, log: true }, tileBytes(c));
    const listing = join(l.root, 'scope_dat.txt');
    await writeFile(listing, tiles.map((c) => scopePath(l.scopeRoot, c)).join('\n') + '\n');
    const yaml = await writeTabYaml(l, { host: 'scope1', listing }, { expected: { count: 3 } });

    const r = await runFerry(['--json', 'fibsem', 'check', yaml]);
    assert.equal(r.code, 1);
    const rep = jsonLines(r.stdout).find((e) => e.type === 'tabCheck')!;
    assert.equal(rep.scopeSource, listing);
    assert.deepEqual(rep.missingDat, [tiles[1]]);
    assert.deepEqual(rep.datCount, { actual: 2, expected: 3, ok: false });

    const before = await snapshot(l.root);
    const dry = await runFerry(['--json', 'fibsem', 'repair', yaml, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = jsonLines(dry.stdout).find((e) => e.type === 'repairPlan')!;
    assert.deepEqual(plan.steps, [
      { core: tiles[1], fetch: { from: 'scope', path: scopePath(l.scopeRoot, tiles[1]) }, convert: join(l.archiveDat, `${tiles[1]}.dat`) },
    ]);
    assert.deepEqual(await snapshot(l.root), before);
  } finally {
    await rm(l.root, { recursive: true, force: true });
  }
});

test('no logs and no expected names: the scope cannot be listed, and the message says what to add', async () => {
  const l = testTabLayout(await tempDir('ferry-fibsem-listing-'));
  try {
    await makeStageFolders(l);
    const yaml = await writeTabYaml(l, { host: 'scope1' });
    const r = await runFerry(['fibsem', 'check', yaml]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no date range to list the scope with: no logs in .* and no expected\.firstDat \/ lastDat\n {2}give expected\.firstDat/);

    await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('archiveDat:', 'archivedDat:'));
    const bad = await runFerry(['fibsem', 'repair', yaml]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /folders\.archiveDat: missing; unknown field folders\.archivedDat/);
  } finally {
    await rm(l.root, { recursive: true, force: true });
  }
});
