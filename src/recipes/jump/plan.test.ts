// Where a plate goes: always below --dest, whatever the key template, the old job files or the
// plate folders they name say. Local folders only; the uploads to S3 are in jump.test.ts.
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { jsonLines, runFerry } from '../../testing/cli.ts';
import { tempDir } from '../../testing/tree.ts';

const OBJECTS = 'workspace/segmentation/cp/objects';

/** results/cpg0016-jump/source_1/<OBJECTS>/B1/P1 with P1.zarr/a, and an empty `dest` beside it. */
async function facility() {
  const dir = await tempDir('ferry-jump-plan-');
  const plateDir = join(dir, 'results', 'cpg0016-jump', 'source_1', OBJECTS, 'B1', 'P1');
  await mkdir(join(plateDir, 'P1.zarr'), { recursive: true });
  await writeFile(join(plateDir, 'P1.zarr', 'a'), 'voxels');
  const dest = join(dir, 'deep', 'dest');
  await mkdir(dest, { recursive: true });
  const env = { FERRY_LEDGER: join(dir, 'ledger.sqlite'), FERRY_WORKDIR: join(dir, 'work') };
  return { dir, plateDir, dest, env, results: join(dir, 'results') };
}

/** Every entry under `dir`, as relative paths. */
async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

test('a key template that climbs out of --dest, or names an unknown field, is refused before anything is planned', async () => {
  const f = await facility();
  for (const [template, message] of [
    ['../../../escaped-{plate}', /keyTemplate: must not have "\.\." segments/],
    ['x/{gallery_path}/../../../../..', /keyTemplate: must not have "\.\." segments/],
    ['{nope}/{plate}', /keyTemplate: only \{gallery_path\}, \{source\}, \{batch\}, \{plate\} may appear in braces/],
  ] as const) {
    const r = await runFerry(['jump', 'plan', '--results', f.results, '--dest', f.dest, '--key-template', template, '--run', 'r'], { env: f.env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /internal error/);
  }
  const w = await runFerry(['work', '--until-empty'], { env: f.env });
  assert.equal(w.code, 2, 'nothing was planned, so there is no ledger to work from');
  assert.deepEqual(await entries(f.dest), []);
  assert.deepEqual((await entries(f.dir)).filter((e) => /escaped|nope/.test(e)), []);
  // The template that stays below --dest plans, and the hint names a command that ends.
  const ok = await runFerry(['jump', 'plan', '--results', f.results, '--dest', f.dest, '--key-template', 'plates/{source}/{plate}', '--run', 'r'], { env: f.env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^Next: ferry work --run r --until-empty /m);
});

test('old job files whose plate would land outside --dest are refused one by one; the others are imported and land below it', async () => {
  const f = await facility();
  const old = join(f.dir, 'joblist');
  await mkdir(old);
  await writeFile(join(old, 'source_1__B1__P1.txt'), `todo\n${f.plateDir}\n---\n`);
  // The batch in the name is "..", the plate folder's path climbs out through the dataset folder.
  await writeFile(join(old, 'source_2__..__x.txt'), `todo\n${f.plateDir}\n---\n`);
  await writeFile(join(old, 'source_3__B1__P1.txt'), `todo\n${f.dir}/results/cpg0016-jump/../../../../../escaped\n---\n`);
  const before = await entries(f.dir);
  const r = await runFerry(['jump', 'import-joblist', old, '--dest', f.dest, '--run', 'old', '--json'], { env: f.env });
  assert.equal(r.code, 1, 'two files could not be imported');
  const imported = jsonLines(r.stdout).find((e) => e.type === 'imported')!;
  assert.equal(imported.added, 1);
  assert.deepEqual(imported.problems.map((p: { file: string }) => p.file).sort(), ['source_2__..__x.txt', 'source_3__B1__P1.txt']);
  assert.match(JSON.stringify(imported.problems), /not a folder name/);
  assert.match(JSON.stringify(imported.problems), /leaves the destination/);
  const w = await runFerry(['work', '--run', 'old', '--until-empty'], { env: f.env });
  assert.equal(w.code, 0, w.stderr);
  assert.equal((await entries(f.dest)).filter((e) => e.endsWith('P1.zarr/a')).join(), `cpg0016-jump/source_1/${OBJECTS}/B1/P1/P1.zarr/a`);
  // Ferry's own state (the ledger, and the manifests and upload journal beside it) is not data.
  const written = (await entries(f.dir)).filter((e) => !before.includes(e) && !/^(ledger\.sqlite|work|manifests|uploads\.sqlite)/.test(e));
  assert.deepEqual(written.filter((e) => !e.startsWith('deep/dest/')), [], 'nothing written outside --dest');
});
