// JUMP plate uploads end to end, against the real S3 server (Ceph RGW), through the `ferry` command.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { adminClient, createBucket, dropBucket, s3TestServer } from '../../testing/s3.ts';
import type { S3TestServer } from '../../testing/s3.ts';
import { collect, jsonLines, runFerry, startFerry } from '../../testing/cli.ts';
import { catchMidway, thaw } from '../../testing/freeze.ts';
import { content, tempDir } from '../../testing/tree.ts';
import { until } from '../../testing/until.ts';

const GALLERY = 'aggregated/broad_compressed/cellpainting-gallery/cpg0016-jump';
const OBJECTS = 'workspace/segmentation/cellpose_202404/objects';

let server: S3TestServer;
let s3: S3Client;
const buckets: string[] = [];

before(() => {
  server = s3TestServer();
  s3 = adminClient(server);
});
after(async () => {
  for (const b of buckets) await dropBucket(s3, b).catch(() => {});
});

async function bucket(): Promise<string> {
  const b = await createBucket(s3, 'jump');
  buckets.push(b);
  return b;
}

/** 2 sources x 2 batches x 3 plates, each a zarr of `perPlate` small files (some nested), plus a plate without .zarr. */
async function resultsTree(perPlate = 120) {
  const dir = await tempDir('ferry-jump-');
  const results = join(dir, 'results');
  const plates: string[] = [];
  for (const source of ['source_1', 'source_8']) {
    for (const batch of ['B1', 'B2']) {
      for (let p = 0; p < 3; p++) {
        const plate = `P${source.slice(7)}${batch}${p}`;
        const plateDir = join(results, GALLERY, source, OBJECTS, batch, plate);
        for (let i = 0; i < perPlate; i++) {
          const well = `${source}__${batch}__${plate}__A0${i % 4}__${Math.floor(i / 4)}`;
          const rel = i % 3 === 0 ? `${plate}.zarr/${well}/label_image/0/${i}` : `${plate}.zarr/${well}/.zattrs${i}`;
          await mkdir(join(plateDir, rel, '..'), { recursive: true });
          await writeFile(join(plateDir, rel), content(`${plate}/${rel}`, 2000 + (i % 5) * 700));
        }
        await writeFile(join(plateDir, 'channel_mapping.json'), '{"DNA": 0}');
        plates.push(`${source}__${batch}__${plate}`);
      }
    }
  }
  const bad = join(results, GALLERY, 'source_8', OBJECTS, 'B1', 'NOZARR');
  await mkdir(bad, { recursive: true });
  await writeFile(join(bad, 'readme.txt'), 'segmentation failed');
  return { dir, results, plates, env: { FERRY_WORKDIR: join(dir, 'work'), FERRY_LEDGER: join(dir, 'ledger.sqlite'), ...awsEnv() } };
}

function awsEnv(): NodeJS.ProcessEnv {
  return { AWS_ACCESS_KEY_ID: server.accessKey, AWS_SECRET_ACCESS_KEY: server.secretKey, AWS_ENDPOINT_URL: server.endpoint, AWS_REGION: 'us-east-1' };
}

async function keysIn(b: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(r.Contents ?? []).map((c) => c.Key!));
    token = r.NextContinuationToken;
  } while (token);
  return keys;
}

async function jobsOf(env: NodeJS.ProcessEnv, run: string): Promise<Record<string, any>[]> {
  const r = await runFerry(['jobs', 'list', '--run', run, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  return jsonLines(r.stdout).filter((e) => e.key);
}

test('plan finds every plate, skips the one without .zarr, and planning again adds nothing', async () => {
  const t = await resultsTree(3);
  const b = await bucket();
  const r = await runFerry(['jump', 'plan', '--results', t.results, '--dest', `s3://${b}/LAB`, '--run', 'r1'], { env: t.env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Found 2 source\(s\):\n {2}- source_1\n {2}- source_8/);
  assert.match(r.stdout, /Found 3 plate\(s\) for source 'source_8' in batch 'B1'\./);
  assert.match(r.stdout, /Skipped 1 plate folder\(s\):\n {2}- .*NOZARR: no NOZARR.zarr folder/);
  assert.match(r.stdout, /Created 12 job\(s\) in run 'r1' \(0 already planned\)/);
  const again = await runFerry(['jump', 'plan', '--results', t.results, '--dest', `s3://${b}/LAB`, '--run', 'r1'], { env: t.env });
  assert.match(again.stdout, /Created 0 job\(s\) in run 'r1' \(12 already planned\)/);
});

test('every plate uploads, verified object by object, and status gives the summary', async () => {
  const t = await resultsTree();
  const b = await bucket();
  assert.equal((await runFerry(['jump', 'plan', '--results', t.results, '--dest', `s3://${b}/LAB`, '--run', 'up', '--acl', 'bucket-owner-full-control'], { env: t.env })).code, 0);
  const w = await runFerry(['work', '--run', 'up', '--until-empty', '--concurrency', '2'], { env: t.env });
  assert.equal(w.code, 0, w.stderr + w.stdout);
  const jobs = await jobsOf(t.env, 'up');
  assert.equal(jobs.length, 12);
  assert.deepEqual(jobs.map((j) => j.state), Array(12).fill('success'));
  assert.equal((await keysIn(b, 'LAB/cpg0016-jump/source_8/workspace/segmentation/cellpose_202404/objects/B2/P8B21/')).length, 121);
  // Object by object, by content: the whole gallery subtree against the bucket.
  const c = await runFerry(['check', join(t.results, GALLERY), `s3://${b}/LAB/cpg0016-jump`, '--checksum', '--exclude', '**/NOZARR/**', '--json'], { env: t.env });
  const report = jsonLines(c.stdout).find((e) => e.type === 'check')!;
  assert.equal(c.code, 0, JSON.stringify({ ...report, compared: report?.compared }));
  assert.equal(report.matching, 12 * 121);
  const s = await runFerry(['status', '--run', 'up'], { env: t.env });
  assert.match(s.stdout, /^up +12 +0 +0 +12 +0 +0 .* 1452\/1452 files/m, 'total, todo, ongoing, success, error, cancelled, files');
});

test('a results tree missing when the jobs run (an unmounted disk) fails every plate, retryably, never "success" with 0 files', async () => {
  const t = await resultsTree(3);
  const b = await bucket();
  assert.equal((await runFerry(['jump', 'plan', '--results', t.results, '--dest', `s3://${b}/LAB`, '--run', 'gone'], { env: t.env })).code, 0);
  await rename(t.results, `${t.results}.gone`);
  const w = await runFerry(['work', '--run', 'gone', '--until-empty', '--retry-backoff', '0'], { env: t.env });
  assert.notEqual(w.code, 0, 'a run whose sources were not there did not succeed');
  const jobs = await jobsOf(t.env, 'gone');
  assert.deepEqual(jobs.map((j) => j.state), Array(12).fill('error'));
  assert.match(jobs[0].lastError, /the folder .*results.* does not exist/);
  assert.ok(jobs.every((j) => j.attempts > 1), 'each job was tried again before it was given up');
  assert.deepEqual(await keysIn(b), []);

  await rename(`${t.results}.gone`, t.results);
  assert.equal((await runFerry(['jobs', 'retry', '--run', 'gone'], { env: t.env })).code, 0);
  const again = await runFerry(['work', '--run', 'gone', '--until-empty'], { env: t.env });
  assert.equal(again.code, 0, again.stderr + again.stdout);
  assert.deepEqual((await jobsOf(t.env, 'gone')).map((j) => j.state), Array(12).fill('success'));
});

/** The job key (source__batch__plate) of an object uploaded under LAB/cpg0016-jump/. */
function plateOf(key: string): string {
  const p = key.split('/');
  return `${p[2]}__${p[7]}__${p[8]}`;
}

test('a worker killed in the middle of a plate: the restarted worker finishes it without resending verified files', async () => {
  const t = await resultsTree(600);
  const b = await bucket();
  await runFerry(['jump', 'plan', '--results', t.results, '--dest', `s3://${b}/LAB`, '--run', 'kill'], { env: t.env });
  const w = startFerry(['work', '--run', 'kill', '--until-empty', '--lease', '2'], { env: t.env });
  const done = collect(w);
  // Stopped while the bucket is read, the worker cannot finish a plate meanwhile: a plate seen with
  // some but not all of its objects is one it is killed in the middle of.
  const [plate, sentBefore] = await catchMidway(w, 'in the middle of a plate', async () => (await keysIn(b)).length, async () => {
    const perPlate = new Map<string, number>();
    for (const k of await keysIn(b)) perPlate.set(plateOf(k), (perPlate.get(plateOf(k)) ?? 0) + 1);
    return [...perPlate].find(([, n]) => n < 601);
  });
  w.kill('SIGKILL');
  await done;
  const w2 = await runFerry(['work', '--run', 'kill', '--until-empty', '--lease', '2'], { env: t.env });
  assert.equal(w2.code, 0, w2.stderr);
  const jobs = await jobsOf(t.env, 'kill');
  assert.deepEqual(jobs.map((j) => j.state), Array(12).fill('success'));
  const resumed = jobs.filter((j) => (j.result?.skippedFiles ?? 0) > 0);
  assert.deepEqual(resumed.map((j) => j.key), [plate], 'the interrupted plate resumed: its verified files were skipped, not sent again');
  assert.ok(resumed[0].result.skippedFiles >= sentBefore, `the ${sentBefore} objects sent before the kill were not sent again (${resumed[0].result.skippedFiles} skipped)`);
  assert.equal(resumed[0].result.copiedFiles + resumed[0].result.skippedFiles, 601);
  assert.equal((await keysIn(b)).length, 12 * 601);
});

test('a credential command with credentials that expire after seconds keeps the upload going', async () => {
  const t = await resultsTree(1);
  const dir = t.dir;
  const plateRoot = join(t.results, GALLERY, 'source_1', OBJECTS, 'B1', 'P1B10', 'P1B10.zarr', 'many');
  await mkdir(plateRoot, { recursive: true });
  for (let i = 0; i < 1500; i++) await writeFile(join(plateRoot, `f${i}`), content(`c${i}`, 1000));
  // Each run of the command leaves the expiry of the keys it printed, one line per run.
  const expiries = join(dir, 'expiries.txt');
  const cmd = join(dir, 'creds.sh');
  await writeFile(cmd, `#!/bin/sh\nexp=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)\necho "$exp" >> ${expiries}\nprintf '{"Credentials":{"AccessKeyId":"%s","SecretAccessKey":"%s","SessionToken":"","Expiration":"%s"}}' ${server.accessKey} ${server.secretKey} "$exp"\n`);
  await chmod(cmd, 0o755);
  const runs = async () => (await readFile(expiries, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  const b = await bucket();
  const env = { ...t.env, AWS_ACCESS_KEY_ID: 'wrong', AWS_SECRET_ACCESS_KEY: 'wrong' };
  await runFerry(['jump', 'plan', '--results', t.results, '--dest', `s3://${b}/LAB`, '--run', 'creds', '--transfers', '4', '--credential-command', cmd, '--endpoint-url', server.endpoint], { env });
  const w = startFerry(['work', '--run', 'creds', '--until-empty'], { env });
  const done = collect(w);
  // Caught in the middle of the large plate and held there until the keys it holds have expired:
  // the rest of that plate can only go up with keys fetched again.
  const bigPrefix = `LAB/cpg0016-jump/source_1/${OBJECTS}/B1/P1B10/`;
  await catchMidway(w, 'in the middle of the large plate', async () => (await keysIn(b)).length, async () => {
    const n = (await keysIn(b, bigPrefix)).length;
    return n > 0 && n < 1502 ? n : undefined;
  });
  const expired = Math.max(...(await runs()).map((e) => Date.parse(e)));
  await until('the keys the stopped worker holds to expire', () => Date.now() > expired);
  thaw(w);
  const r = await done;
  assert.equal(r.code, 0, r.stderr);
  const jobs = await jobsOf(env, 'creds');
  assert.deepEqual(jobs.map((j) => j.state), Array(12).fill('success'));
  assert.equal((await keysIn(b, bigPrefix)).length, 1502);
  assert.ok((await runs()).length >= 13, `the command ran at every plate start and again on expiry (${(await runs()).length} runs)`);
});

test('an old job folder is imported with its states and logs and the campaign continues', async () => {
  const t = await resultsTree(5);
  const b = await bucket();
  const old = join(t.dir, 'source08');
  await mkdir(old);
  const plateDir = (s: string, bt: string, p: string) => join(t.results, GALLERY, s, OBJECTS, bt, p);
  await writeFile(join(old, 'source_8__B1__P8B10.txt'), `success\n${plateDir('source_8', 'B1', 'P8B10')}\n---\n[20240501-101500] Uploading\n[20240501-102000] done\n`);
  await writeFile(join(old, 'source_8__B1__P8B11.txt'), `error\n${plateDir('source_8', 'B1', 'P8B11')}\n---\n[20240501-101500] Uploading\n[20240501-103000] ExpiredToken when calling PutObject\n`);
  await writeFile(join(old, 'source_8__B1__P8B12.txt'), `ongoing\n${plateDir('source_8', 'B1', 'P8B12')}\n---\n[20240501-101500] Uploading\n`);
  await writeFile(join(old, 'notes.txt'), 'not a job file');
  const r = await runFerry(['jump', 'import-joblist', old, '--dest', `s3://${b}/LAB`, '--run', 'old'], { env: t.env });
  assert.equal(r.code, 1, 'one file could not be imported');
  assert.match(r.stdout, /imported 3 into run 'old'/);
  assert.match(r.stdout, /notes.txt: name is not source_N__batch__plate.txt/);
  let jobs = await jobsOf(t.env, 'old');
  const state = (k: string) => jobs.find((j) => j.key === k)!.state;
  assert.equal(state('source_8__B1__P8B10'), 'success');
  assert.equal(state('source_8__B1__P8B11'), 'error');
  assert.equal(state('source_8__B1__P8B12'), 'todo');
  const errJob = jobs.find((j) => j.key === 'source_8__B1__P8B11')!;
  const log = await runFerry(['jobs', 'log', String(errJob.id)], { env: t.env });
  assert.match(log.stdout, /ExpiredToken when calling PutObject/);
  assert.equal((await runFerry(['work', '--run', 'old', '--until-empty'], { env: t.env })).code, 0);
  assert.equal((await runFerry(['jobs', 'retry', String(errJob.id)], { env: t.env })).code, 0);
  assert.equal((await runFerry(['work', '--run', 'old', '--until-empty'], { env: t.env })).code, 0);
  jobs = await jobsOf(t.env, 'old');
  assert.deepEqual(jobs.map((j) => j.state).sort(), ['success', 'success', 'success']);
  assert.equal((await keysIn(b, 'LAB/cpg0016-jump/source_8/workspace/segmentation/cellpose_202404/objects/B1/P8B12/')).length, 6);
});

test('bad input: clear messages, the affected plates error with the reason, the others succeed', async () => {
  const t = await resultsTree(2);
  const missing = await runFerry(['jump', 'plan', '--results', join(t.dir, 'nope'), '--dest', 's3://x-bucket/p'], { env: t.env });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /results folder .*nope does not exist/);
  const empty = await tempDir();
  const none = await runFerry(['jump', 'plan', '--results', empty, '--dest', 's3://x-bucket/p'], { env: t.env });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no source_N folders under/);

  // Missing bucket: every plate errors with the reason.
  await runFerry(['jump', 'plan', '--results', t.results, '--dest', 's3://ferry-no-such-bucket/p', '--run', 'nobucket'], { env: t.env });
  const w = await runFerry(['work', '--run', 'nobucket', '--until-empty', '--retry-backoff', '0'], { env: t.env });
  assert.equal(w.code, 1);
  const jobs = await jobsOf(t.env, 'nobucket');
  assert.ok(jobs.every((j) => j.state === 'error' && /ferry-no-such-bucket/.test(j.lastError)), JSON.stringify(jobs.map((j) => j.lastError)));

  // A failing credential command: a clear error naming the command; unreadable files: only that plate errors.
  const b = await bucket();
  await runFerry(['jump', 'plan', '--results', t.results, '--dest', `s3://${b}/p`, '--run', 'badcreds', '--credential-command', '/bin/false', '--endpoint-url', server.endpoint], { env: t.env });
  const wc = await runFerry(['work', '--run', 'badcreds', '--until-empty', '--retry-backoff', '0'], { env: t.env });
  assert.equal(wc.code, 1);
  assert.ok((await jobsOf(t.env, 'badcreds')).every((j) => j.state === 'error' && /\/bin\/false/.test(j.lastError)));
  assert.deepEqual(await keysIn(b), []);
});

test('permission denied on some files: that plate errors with the reason, the others succeed', async () => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root to hand the tree to an unprivileged user (CI does)');
  const t = await resultsTree(4);
  const b = await bucket();
  const locked = join(t.results, GALLERY, 'source_1', OBJECTS, 'B2', 'P1B21', 'P1B21.zarr');
  execFileSync('chown', ['-R', 'nobody', t.dir]);
  const asNobody = { env: t.env, asUser: 'nobody', cwd: t.dir };
  assert.equal((await runFerry(['jump', 'plan', '--results', t.results, '--dest', `s3://${b}/LAB`, '--run', 'perm'], asNobody)).code, 0);
  const victim = (await readdir(locked, { recursive: true, withFileTypes: true })).find((e) => e.isFile())!;
  await chmod(join(victim.parentPath, victim.name), 0o000);
  const w = await runFerry(['work', '--run', 'perm', '--until-empty', '--retry-backoff', '0'], asNobody);
  assert.equal(w.code, 1);
  const jobs = await jobsOf(t.env, 'perm');
  const bad = jobs.filter((j) => j.state === 'error');
  assert.deepEqual(bad.map((j) => j.key), ['source_1__B2__P1B21']);
  assert.match(bad[0].lastError, /permission denied/);
  assert.equal(jobs.filter((j) => j.state === 'success').length, 11);
});

test('a file whose name is not UTF-8 (no object key can hold it): that plate errors naming it readably, the others succeed', async () => {
  const t = await resultsTree(2);
  const b = await bucket();
  const zarr = join(t.results, GALLERY, 'source_8', OBJECTS, 'B2', 'P8B20', 'P8B20.zarr');
  await writeFile(Buffer.concat([Buffer.from(`${zarr}/`), Buffer.from('caf\xe9.json', 'latin1')]), '{}');
  assert.equal((await runFerry(['jump', 'plan', '--results', t.results, '--dest', `s3://${b}/LAB`, '--run', 'names'], { env: t.env })).code, 0);
  const w = await runFerry(['work', '--run', 'names', '--until-empty', '--retry-backoff', '0'], { env: t.env });
  assert.equal(w.code, 1);
  const jobs = await jobsOf(t.env, 'names');
  const bad = jobs.filter((j) => j.state === 'error');
  assert.deepEqual(bad.map((j) => j.key), ['source_8__B2__P8B20']);
  assert.match(bad[0].lastError, /1 of \d+ files failed \(P8B20\.zarr\/caf\\xE9\.json: .*not valid UTF-8/);
  assert.doesNotMatch(bad[0].lastError, /\ufffd/, 'no replacement characters where the bytes were');
  assert.equal(jobs.filter((j) => j.state === 'success').length, 11);
});
