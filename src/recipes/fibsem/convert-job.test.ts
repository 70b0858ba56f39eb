// The InLens conversion as ledger jobs: `ferry fibsem convert` plans, `ferry work` runs them in a
// worker process, exactly as a cluster node would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { openLedger } from '../../ledger/open.ts';
import { openStore } from '../../storage/open.ts';
import { adminClient, createBucket, dropBucket, s3TestServer, useServerKeys } from '../../testing/s3.ts';
import { jsonLines, runFerry } from '../../testing/cli.ts';
import { tempDir } from '../../testing/tree.ts';
import { CONVERT_JOB } from './kinds.ts';
import type { ConvertJobParams } from './convert-plan.ts';
import { makeStageFolders, testTabLayout, tileBytes, writeStages, writeTabYaml } from '../../testing/fibsem-tab.ts';

const tiles = Array.from({ length: 7 }, (_, i) => `Merlin-6285_21-08-23_0841${String(10 + i)}_0-0-0`);

test('fibsem.convert jobs convert every tile without a PNG, once; planning again adds nothing', async () => {
  const l = testTabLayout(await tempDir('ferry-fibsem-convert-'));
  try {
    await makeStageFolders(l);
    // tiles[0] is already converted; tiles[1] is only in the transferred folder; tiles[2] has a log but lost its PNG.
    for (const [i, c] of tiles.entries()) {
      await writeStages(l, c, { transferred: true, archive: i !== 1, png: i === 0, log: i === 0 }, tileBytes(c));
    }
    await writeFile(join(l.logs, `${tiles[2]}.log`), 'the original log\n');
    const yaml = await writeTabYaml(l, { host: 'scope1' });
    const ledger = join(l.root, 'ledger.sqlite');

    const plan = await runFerry(['--json', 'fibsem', 'convert', yaml, '--batch', '4', '--ledger', ledger]);
    assert.equal(plan.code, 0, plan.stderr);
    const planned = jsonLines(plan.stdout).find((e) => e.type === 'planned')!;
    assert.deepEqual({ tiles: planned.tiles, jobs: planned.jobs, added: planned.added }, { tiles: 6, jobs: 2, added: 2 });
    assert.equal(planned.run, 'fibsem-Z0720-07m_TEST_Sec01-inlens');

    const again = await runFerry(['--json', 'fibsem', 'convert', yaml, '--batch', '4', '--ledger', ledger]);
    assert.equal(jsonLines(again.stdout).find((e) => e.type === 'planned')!.added, 0);
    assert.match((await runFerry(['fibsem', 'convert', yaml, '--batch', '0'])).stderr, /--batch must be a whole number of at least 1, not "0"/);

    const work = await runFerry(['work', '--ledger', ledger, '--run', planned.run, '--until-empty']);
    assert.equal(work.code, 0, work.stderr);

    const pngs = (await readdir(l.inLensPng)).sort();
    assert.deepEqual(pngs, tiles.map((c) => `${c}-InLens.png`));
    const meta = await sharp(join(l.inLensPng, `${tiles[1]}-InLens.png`)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', 24, 16, 1]);
    assert.equal(await readFile(join(l.inLensPng, `${tiles[0]}-InLens.png`), 'utf8'), 'png', 'a converted tile is left alone');
    assert.equal(await readFile(join(l.logs, `${tiles[2]}.log`), 'utf8'), 'the original log\n', 'an existing log is never replaced');
    assert.match(await readFile(join(l.logs, `${tiles[3]}.log`), 'utf8'), /compress_and_save: saved .*-InLens\.png/);

    const after = await runFerry(['--json', 'fibsem', 'convert', yaml, '--ledger', ledger]);
    assert.deepEqual(
      (({ tiles: t, jobs: j }) => ({ tiles: t, jobs: j }))(jsonLines(after.stdout).find((e) => e.type === 'planned')!),
      { tiles: 0, jobs: 0 },
    );
  } finally {
    await rm(l.root, { recursive: true, force: true });
  }
});

test('a bad .dat fails its job with the tile named, after converting the rest of the batch', async () => {
  const l = testTabLayout(await tempDir('ferry-fibsem-convert-'));
  try {
    await makeStageFolders(l);
    await writeStages(l, tiles[0], { archive: true }, tileBytes(tiles[0]).subarray(0, 2000));
    await writeStages(l, tiles[1], { archive: true }, tileBytes(tiles[1]));
    const yaml = await writeTabYaml(l, { host: 'scope1' });
    const ledger = join(l.root, 'ledger.sqlite');
    assert.equal((await runFerry(['fibsem', 'convert', yaml, '--ledger', ledger])).code, 0);
    const work = await runFerry(['work', '--ledger', ledger, '--until-empty', '--retry-backoff', '0']);
    assert.equal(work.code, 1, work.stderr);
    assert.deepEqual(await readdir(l.inLensPng), [`${tiles[1]}-InLens.png`]);
    const list = await runFerry(['--json', 'jobs', 'list', '--ledger', ledger]);
    const job = jsonLines(list.stdout).find((e) => e.kind === 'fibsem.convert' || e.job?.kind === 'fibsem.convert');
    assert.ok(job, list.stdout);
    assert.match(JSON.stringify(job), /1 of 2 tiles failed to convert, first: .*truncated \.dat file/);
  } finally {
    await rm(l.root, { recursive: true, force: true });
  }
});

test('a fibsem.convert job reads its .dat files from S3 and writes PNGs and logs there; a PNG already there is kept', async () => {
  const server = s3TestServer();
  useServerKeys(server);
  const client = adminClient(server);
  const bucket = await createBucket(client, 'ferry-fibsem');
  const root = await tempDir('ferry-fibsem-convert-s3-');
  const options = { endpoint: server.endpoint, pathStyle: true, region: 'us-east-1' };
  const store = await openStore(`s3://${bucket}/`, options);
  try {
    for (const c of tiles.slice(0, 3)) await store.write(`raw/${c}.dat`, tileBytes(c));
    await store.write(`InLens/${tiles[2]}-InLens.png`, Buffer.from('kept'));
    const ledger = join(root, 'ledger.sqlite');
    const l = await openLedger(ledger);
    try {
      const run = await l.createRun({ name: 'inlens-s3' });
      const params: ConvertJobParams = {
        dats: tiles.slice(0, 3).map((c) => `s3://${bucket}/raw/${c}.dat`),
        pngDir: `s3://${bucket}/InLens`,
        logDir: `s3://${bucket}/logs/`,
        store: options,
      };
      await l.addJobs(run.id, [{ kind: CONVERT_JOB, key: 'inlens/s3', params }]);
    } finally {
      await l.close();
    }
    const work = await runFerry(['work', '--ledger', ledger, '--until-empty']);
    assert.equal(work.code, 0, work.stderr);
    const keys: string[] = [];
    for await (const o of store.list()) keys.push(o.key);
    assert.deepEqual(keys.sort(), [
      ...tiles.slice(0, 3).map((c) => `InLens/${c}-InLens.png`),
      ...tiles.slice(0, 3).map((c) => `logs/${c}.log`),
      ...tiles.slice(0, 3).map((c) => `raw/${c}.dat`),
    ].sort());
    const meta = await sharp(await store.readBytes(`InLens/${tiles[0]}-InLens.png`)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', 24, 16, 1]);
    assert.equal((await store.readBytes(`InLens/${tiles[2]}-InLens.png`)).toString(), 'kept');
    assert.match((await store.readBytes(`logs/${tiles[1]}.log`)).toString(), new RegExp(`from dat with shape \\(2, 16, 24\\) s3://${bucket}/raw/${tiles[1]}\\.dat`));
    assert.match((await store.readBytes(`logs/${tiles[1]}.log`)).toString(), new RegExp(`saved s3://${bucket}/InLens/${tiles[1]}-InLens\\.png`));
  } finally {
    await store.close();
    await dropBucket(client, bucket);
    await rm(root, { recursive: true, force: true });
  }
});
