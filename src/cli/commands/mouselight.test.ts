// ferry mouselight upload on a local "bucket" folder: bad input stops before anything is planned,
// dry runs and emitted scripts show the plan, and the prompts work on a real pseudo-terminal.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleLayout, writeSampleFacility } from '../../testing/mouselight-facility.ts';
import { FERRY_BIN, jsonLines, runFerry } from '../../testing/cli.ts';
import { until } from '../../testing/until.ts';
import { shellQuote } from '../../runtime/submit.ts';

const DATE = '2023-05-10';
let dir: string;
let facility: string;
let bucket: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-ml-'));
  facility = join(dir, 'facility');
  bucket = join(dir, 'bucket');
  await writeSampleFacility(facility, [DATE, '2019-01-23']);
  await writeFile(join(dir, 'layout.yaml'), sampleLayout(facility, `file://${bucket}`));
});

after(() => rm(dir, { recursive: true, force: true }));

const env = () => ({ FERRY_WORKDIR: join(dir, '.ferry'), FERRY_LEDGER: join(dir, 'ledger.sqlite') });
const ferry = (...args: string[]) => runFerry(args, { cwd: dir, env: env() });
const upload = (...args: string[]) => ferry('mouselight', 'upload', '--config', 'layout.yaml', ...args);

/** Nothing was planned and nothing reached the bucket. */
async function assertNothingDone(): Promise<void> {
  assert.ok(!existsSync(bucket) || (await readdir(bucket)).length === 0, 'the bucket folder is empty');
  if (existsSync(join(dir, 'ledger.sqlite'))) {
    const r = await ferry('--json', 'jobs', 'list');
    assert.deepEqual(jsonLines(r.stdout), []);
  }
}

test('a malformed sample date is refused', async () => {
  for (const bad of ['2023-5-10', '2023-02-30', 'yesterday']) {
    const r = await upload('--sample', bad, '--products', 'images');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ferry: sample .*(YYYY-MM-DD|not a day of the calendar)/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  await assertNothingDone();
});

test('a sample in neither image folder names both folders', async () => {
  const r = await upload('--sample', '2020-01-01', '--products', 'images');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /sample 2020-01-01 is in none of the image folders/);
  assert.match(r.stderr, /SAMPLES\/2020-01-01/);
  assert.match(r.stderr, /RENDER_archive\/2020-01-01/);
  await assertNothingDone();
});

test('tiles under the obsolete naming scheme stop the upload before anything is planned', async () => {
  const marker = join(facility, `nrs/mouselight/SAMPLES/${DATE}/ktx/block_8_xy_.ktx`);
  const kept = await readFile(marker);
  await unlink(marker);
  try {
    const r = await upload('--sample', DATE, '--products', 'images,registration');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /image files under .*SAMPLES\/2023-05-10 use an obsolete naming scheme/);
    await assertNothingDone();
  } finally {
    await writeFile(marker, kept);
  }
});

test('a missing product folder stops the whole upload, images included', async () => {
  const r = await upload('--sample', DATE, '--products', 'images,segmentation', '--subfolder', 'no-such-output');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no segmentation folder for sample 2023-05-10: .*Reconstructions\/2023-05-10\/no-such-output does not exist/);
  await assertNothingDone();
});

test('without a terminal, a missing sample or product list is an error that says which flag to use', async () => {
  const noSample = await upload('--products', 'images');
  assert.equal(noSample.code, 2);
  assert.match(noSample.stderr, /no sample given\n.*--sample YYYY-MM-DD/);
  const noProducts = await upload('--sample', DATE);
  assert.equal(noProducts.code, 2);
  assert.match(noProducts.stderr, /no products given\n.*--products/);
  const noSub = await upload('--sample', DATE, '--products', 'segmentation');
  assert.equal(noSub.code, 2);
  assert.match(noSub.stderr, /segmentation needs a sub-folder .*--subfolder/s);
  const unknown = await upload('--sample', DATE, '--products', 'images,movies');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown product movies\n.*images, registration, segmentation, tracings, carveouts/);
});

test('a wrong or missing layout field is named together with the file', async () => {
  await writeFile(join(dir, 'broken.yaml'), 'bucket: janelia-mouselight-imagery\nimages:\n  destination: images/{date}/\n  extra: 1\n');
  const r = await ferry('mouselight', 'upload', '--config', 'broken.yaml', '--sample', DATE, '--products', 'images');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /broken\.yaml: /);
  assert.match(r.stderr, /bucket: must be a bucket URL/);
  assert.match(r.stderr, /images\.bases: /);
  assert.match(r.stderr, /images: .*extra/);
  const missing = await ferry('mouselight', 'upload', '--config', 'nope.yaml', '--sample', DATE, '--products', 'images');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read the MouseLight layout nope\.yaml \(no such file\)/);
});

test('--dry-run prints every operation and plans nothing', async () => {
  const r = await upload('--sample', DATE, '--products', 'images,tracings,carveouts', '--dry-run');
  assert.equal(r.code, 0, r.stderr);
  const sample = join(facility, `nrs/mouselight/SAMPLES/${DATE}`);
  for (const line of [
    `sync  ${sample}/ktx/ -> file://${bucket}/images/${DATE}/ktx/  [images/ktx, here]`,
    `copy  ${sample}/default.0.tif -> file://${bucket}/images/${DATE}/default.0.tif  [images/files, here]`,
    `copy  ${sample}/transform.txt -> file://${bucket}/images/${DATE}/transform.txt  [images/files, here]`,
    `sync  ${facility}/groups/shared_tracing/Finished_Neurons/${DATE}/ -> file://${bucket}/tracings/Finished_Neurons/${DATE}/  [tracings/Finished_Neurons, here]`,
    `sync  ${facility}/groups/tracing_complete/${DATE}/ -> file://${bucket}/tracings/tracing_complete/${DATE}/  [tracings/tracing_complete, here]`,
    `sync  ${facility}/funke/mouselight/${DATE}/ -> file://${bucket}/carveouts/${DATE}/  [carveouts/mouselight, here]`,
    `sync  ${facility}/funke/mouselight-v2/${DATE}/ -> file://${bucket}/carveouts/${DATE}/  [carveouts/mouselight-v2, here]`,
  ]) assert.ok(r.stdout.includes(line + '\n'), `missing: ${line}\n${r.stdout}`);
  assert.equal(r.stdout.split('\n').filter((l) => /^(sync|copy) /.test(l)).length, 9);
  const lsf = await upload('--sample', DATE, '--products', 'registration', '--dry-run', '--submit', 'lsf');
  assert.match(lsf.stdout, /\[registration, lsf\]/);
  await assertNothingDone();
});

test('--emit-script writes the facility\'s aws s3 and bsub scripts', async () => {
  await writeFile(join(dir, 's3layout.yaml'), sampleLayout(facility, 's3://janelia-mouselight-imagery', 'profile: FlyLightPDSAdmin\n'));
  const r = await ferry('mouselight', 'upload', '--config', 's3layout.yaml', '--sample', DATE, '--products', 'images,registration,segmentation,tracings,carveouts',
    '--subfolder', 'stitching-output,other-output', '--emit-script', 'scripts');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await readdir(join(dir, 'scripts'))).sort(), [`${DATE}_carveouts.sh`, `${DATE}_cluster.sh`, `${DATE}_images.sh`]);
  const read = (n: string) => readFile(join(dir, 'scripts', `${DATE}_${n}.sh`), 'utf8');
  const flags = '--only-show-errors --profile FlyLightPDSAdmin';
  const s3 = 's3://janelia-mouselight-imagery';
  const sample = join(facility, `nrs/mouselight/SAMPLES/${DATE}`);
  const images = await read('images');
  assert.ok(images.includes(`aws s3 sync ${sample}/ktx/ ${s3}/images/${DATE}/ktx/ ${flags}\n`), images);
  assert.ok(images.includes(`aws s3 cp ${sample}/tilebase.cache.yml ${s3}/images/${DATE}/ ${flags}\n`), images);
  assert.equal(images.split('\n').filter((l) => l.startsWith('aws s3 ')).length, 5);
  const cluster = await read('cluster');
  for (const line of [
    `echo 'Uploading registration'`,
    `bsub -J reg0510 -n 4 -P mouselight 'aws s3 sync ${facility}/groups/registration/Database/${DATE}/ ${s3}/registration/${DATE}/ ${flags}'`,
    `bsub -J seg0510-1 -n 4 -P mouselight 'aws s3 sync ${facility}/groups/cluster/Reconstructions/${DATE}/stitching-output/ ${s3}/segmentation/${DATE}/ ${flags}'`,
    `bsub -J seg0510-2 -n 4 -P mouselight 'aws s3 sync ${facility}/groups/cluster/Reconstructions/${DATE}/other-output/ ${s3}/segmentation/${DATE}/ ${flags}'`,
    `bsub -J tra0510-1 -n 4 -P mouselight 'aws s3 sync ${facility}/groups/shared_tracing/Finished_Neurons/${DATE}/ ${s3}/tracings/Finished_Neurons/${DATE}/ ${flags}'`,
    `bsub -J tra0510-2 -n 4 -P mouselight 'aws s3 sync ${facility}/groups/tracing_complete/${DATE}/ ${s3}/tracings/tracing_complete/${DATE}/ ${flags}'`,
  ]) assert.ok(cluster.includes(line + '\n'), `missing: ${line}\n${cluster}`);
  const carveouts = await read('carveouts');
  assert.ok(carveouts.includes(`bsub -J car0510-2 -n 4 -P mouselight 'aws s3 sync ${facility}/funke/mouselight-v2/${DATE}/ ${s3}/carveouts/${DATE}/ ${flags}'\n`), carveouts);
  await assertNothingDone();
});

test('on a terminal, the sample date and the products are asked for, images preselected', async () => {
  const cmd = [process.execPath, FERRY_BIN, 'mouselight', 'upload', '--config', 'layout.yaml', '--dry-run'].map(shellQuote).join(' ');
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: dir, env: { ...process.env, ...env(), TERM: 'xterm' } });
  let screen = '';
  child.stdout.on('data', (d) => (screen += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const waitFor = async (re: RegExp, from: number) => {
    await until(() => `${re} on the screen after ${JSON.stringify(screen.slice(from))}`, () => re.test(screen.slice(from)));
    return screen.length;
  };
  let at = await waitFor(/Sample date/, 0);
  child.stdin.write('2023-02-30\r');
  at = await waitFor(/not a day of the calendar/, at);
  child.stdin.write('\x15' + DATE + '\r'); // Ctrl-U clears the rejected answer
  at = await waitFor(/Enter products to upload/, at);
  child.stdin.write('\x1b[B'); // down to registration
  child.stdin.write(' ');
  child.stdin.write('\r');
  assert.equal(await exited, 0, screen);
  assert.match(screen, /sync  .*\/ktx\/ -> .*\[images\/ktx, here\]/);
  assert.match(screen, /sync  .*registration\/Database\/2023-05-10\/ -> .*\[registration, here\]/);
  assert.doesNotMatch(screen, /\[tracings/);
});

test('a job that cannot write is an error, not done, and the same upload retries it once the cause is fixed', async () => {
  const blocked = join(dir, 'blocked-bucket');
  await writeFile(blocked, 'a file where the bucket folder should be');
  await writeFile(join(dir, 'blocked.yaml'), sampleLayout(facility, `file://${blocked}`));
  const args = ['--json', 'mouselight', 'upload', '--config', 'blocked.yaml', '--sample', DATE, '--products', 'images'];
  const opts = { cwd: dir, env: { ...env(), FERRY_LEDGER: join(dir, 'blocked-ledger.sqlite') } };
  const failed = await runFerry(args, opts);
  assert.equal(failed.code, 1, failed.stderr);
  const jobs = jsonLines(failed.stdout).filter((l) => l.type === 'job');
  assert.deepEqual(jobs.map((j) => [j.key, j.state]), [['images/ktx', 'error'], ['images/files', 'error']]);
  assert.match(jobs[1].error, /default\.0\.tif: .*a part of the path is a file, not a folder/);
  assert.match(failed.stderr, /2 of 2 job\(s\) failed/);

  await rm(blocked);
  const retried = await runFerry(args, opts);
  assert.equal(retried.code, 0, retried.stderr);
  const after = jsonLines(retried.stdout).filter((l) => l.type === 'job');
  assert.deepEqual(after.map((j) => [j.id, j.state]), jobs.map((j) => [j.id, 'success']));
  assert.deepEqual((await readdir(join(blocked, 'images', DATE))).sort(), ['default.0.tif', 'default.1.tif', 'ktx', 'tilebase.cache.yml', 'transform.txt']);
  await rm(blocked, { recursive: true });
});

test('a layout that sends a product somewhere else is not silently the same run: the upload is refused, naming the change', async () => {
  const opts = { cwd: dir, env: { ...env(), FERRY_LEDGER: join(dir, 'moved-ledger.sqlite') } };
  const bucket2 = join(dir, 'moved-bucket');
  await writeFile(join(dir, 'moved.yaml'), sampleLayout(facility, `file://${bucket2}`));
  const args = ['mouselight', 'upload', '--config', 'moved.yaml', '--sample', '2019-01-23', '--products', 'images'];
  assert.equal((await runFerry(args, opts)).code, 0);
  await writeFile(join(dir, 'moved.yaml'), sampleLayout(facility, `file://${bucket2}`).replace('destination: images/{date}/', 'destination: imagery/{date}/'));
  const again = await runFerry(args, opts);
  assert.equal(again.code, 2, again.stdout);
  assert.match(again.stderr, /run mouselight-2019-01-23 was planned before with other settings: destinations: "images: images\/\{date\}\/;.*" then, "images: imagery\/\{date\}\/;.*" now/);
  assert.equal(existsSync(join(bucket2, 'imagery')), false);
});
