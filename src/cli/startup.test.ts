// Start-up stays cheap: building the command tree loads no database, cloud, image or prompt
// library, and a copy loads only the drivers of its two ends. Each case runs the real `ferry` in a
// child Node that records every module it loads, so a new top-level import anywhere on the path
// shows up here rather than as a slower CLI months later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFerry } from '../testing/cli.ts';
import type { RunResult } from '../testing/cli.ts';
import { tempDir } from '../testing/tree.ts';
import { RENDER_DEFAULTS } from './commands/fibsem.ts';
import { DEFAULT_KEY_TEMPLATE as JUMP_CLI_DEFAULT } from './commands/jump.ts';
import { DEFAULT_LAYOUT_FILE as MOUSELIGHT_CLI_DEFAULT } from './commands/mouselight.ts';
import { DEFAULT_KEY_TEMPLATE } from '../recipes/jump/plan.ts';
import { makeStageFolders, testTabLayout, writeTabYaml } from '../testing/fibsem-tab.ts';
import { DEFAULT_LAYOUT_FILE } from '../recipes/mouselight/layout.ts';
import { DEFAULT_STACK } from '../recipes/fibsem/render/plan.ts';
import { MAX_BATCH_TILES } from '../render/stack-import.ts';
import { DEFAULT_SAMPLE_LAYERS } from '../render/verify.ts';

/** Libraries that only some commands need, and never the command tree itself. */
const HEAVY = ['kysely', 'pg', 'better-sqlite3', 'zod', 'yaml', 'sharp', '@aws-sdk/', '@smithy/', '@google-cloud/', '@inquirer/', 'fastify', '@fastify/'];

const RECORDER = `
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
process.on('exit', () => writeFileSync(process.env.FERRY_TEST_LOADED, loaded.join('\\n')));
`;

async function ferryLoading(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult & { loaded: string[] }> {
  const dir = await tempDir();
  const recorder = join(dir, 'recorder.mjs');
  const list = join(dir, 'loaded.txt');
  await writeFile(recorder, RECORDER);
  const r = await runFerry(args, { cwd: dir, env: { FERRY_WORKDIR: join(dir, 'work'), ...env, NODE_OPTIONS: `--import=${recorder}`, FERRY_TEST_LOADED: list } });
  return { ...r, loaded: (await readFile(list, 'utf8')).split('\n') };
}

function packagesIn(loaded: string[]): Set<string> {
  const names = loaded.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((n) => n !== undefined);
  return new Set(names);
}

function loadedAny(loaded: string[], names: string[]): string[] {
  const pkgs = [...packagesIn(loaded)];
  return names.filter((n) => pkgs.some((p) => (n.endsWith('/') ? p.startsWith(n) : p === n)));
}

const sources = (loaded: string[], under: string) => loaded.filter((u) => u.includes(`/src/${under}`));

/** Storage modules as paths under src/, less the ones allowed. */
const storageBeyond = (loaded: string[], allowed: string[]) =>
  sources(loaded, 'storage/').map((u) => u.replace(/^.*\/src\//, '')).filter((f) => !allowed.includes(f));

/** The storage options the drivers declare: plain data every command builds its flags from. */
const OPTION_DECLARATIONS = ['storage/spec.ts', 'storage/options.ts', 'storage/s3-options.ts', 'storage/gcs-options.ts'];

test('ferry --help loads the command tree only', async () => {
  const r = await ferryLoading(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Usage: ferry/);
  assert.deepEqual(loadedAny(r.loaded, HEAVY), []);
  assert.deepEqual(storageBeyond(r.loaded, OPTION_DECLARATIONS), []);
  assert.deepEqual(sources(r.loaded, 'transfer/'), []);
});

test('a folder-to-folder copy loads neither a cloud driver, nor the ledger, nor a schema library', async () => {
  const r0 = await tempDir();
  await mkdir(join(r0, 'src', 'a'), { recursive: true });
  await writeFile(join(r0, 'src', 'a', 'one.txt'), 'one');
  const r = await ferryLoading(['cp', join(r0, 'src'), join(r0, 'dst')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await readFile(join(r0, 'dst', 'a', 'one.txt'), 'utf8'), 'one');
  assert.deepEqual(loadedAny(r.loaded, HEAVY.filter((n) => n !== 'better-sqlite3')), []);
  const fileDriver = ['storage/open.ts', 'storage/store.ts', 'storage/file.ts', 'storage/direct-write.ts', 'storage/checksum.ts', 'storage/sync-while-fast.ts', 'storage/names.ts'];
  assert.deepEqual(storageBeyond(r.loaded, [...OPTION_DECLARATIONS, ...fileDriver]), []);
  assert.deepEqual(sources(r.loaded, 'ledger/ledger').concat(sources(r.loaded, 'ledger/open')), []);
});

test('a folder-to-S3 sync does not load the Google Cloud driver', async () => {
  if (!process.env.FERRY_TEST_S3_ENDPOINT) assert.fail('FERRY_TEST_S3_ENDPOINT is not set: start scripts/services/s3.sh and eval its env (or run scripts/test-all.sh)');
  const r0 = await tempDir();
  await mkdir(join(r0, 'src'));
  await writeFile(join(r0, 'src', 'one.txt'), 'one');
  // The bucket need not exist: the drivers load before the first request, which is all this counts.
  const r = await ferryLoading(['sync', join(r0, 'src'), 's3://ferry-startup-no-such-bucket/x/', '--endpoint-url', process.env.FERRY_TEST_S3_ENDPOINT!, '--path-style', '--region', 'us-east-1'], {
    AWS_ACCESS_KEY_ID: process.env.FERRY_TEST_S3_ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: process.env.FERRY_TEST_S3_SECRET_KEY,
  });
  assert.ok(sources(r.loaded, 'storage/s3').length > 0, 'the S3 driver was loaded');
  assert.deepEqual(loadedAny(r.loaded, ['@google-cloud/', '@inquirer/', 'kysely', 'pg', 'sharp', 'yaml']), []);
  assert.deepEqual(sources(r.loaded, 'storage/gcs.ts'), []);
});

test('a FIB-SEM check loads nothing a repair, a conversion or a Render import needs, and no cloud or image library', async () => {
  const l = testTabLayout(await tempDir());
  await makeStageFolders(l);
  const listing = join(l.root, 'scope_dat.txt');
  await writeFile(listing, '');
  const r = await ferryLoading(['fibsem', 'check', await writeTabYaml(l, { host: 'scope1', listing })]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Tab: /);
  // The check keeps its report in the ledger (for `ferry status` and the web page), so the ledger,
  // its driver and the recipe's input schema load; nothing else heavy does.
  assert.deepEqual(loadedAny(r.loaded, HEAVY.filter((n) => !['yaml', 'zod', 'kysely', 'better-sqlite3'].includes(n))), []);
  const fibsem = sources(r.loaded, 'recipes/fibsem/').map((u) => u.replace(/^.*\/src\//, ''));
  const checkOnly = ['recipe.ts', 'check.ts', 'report.ts', 'tab.ts', 'kinds.ts'].map((f) => `recipes/fibsem/${f}`);
  assert.deepEqual(fibsem.filter((f) => !checkOnly.includes(f)), []);
  assert.deepEqual(sources(r.loaded, 'formats/fibsem/convert').concat(sources(r.loaded, 'inventory/ssh-fetch')), []);
});

test('defaults written out in the command modules match the recipes they stand for', () => {
  assert.equal(JUMP_CLI_DEFAULT, DEFAULT_KEY_TEMPLATE);
  assert.equal(MOUSELIGHT_CLI_DEFAULT, DEFAULT_LAYOUT_FILE);
  assert.deepEqual(RENDER_DEFAULTS, { stack: DEFAULT_STACK, verifyLayers: DEFAULT_SAMPLE_LAYERS, maxBatch: MAX_BATCH_TILES });
});
