// bin/ferry.js with an old `node` first on PATH (stood in for by Node 24 without type stripping,
// which is what makes a Node too old for Ferry): the process a user starts is the worker itself,
// so `kill -9 <pid>` leaves nothing running and writing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, readlink, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLedger } from '../ledger/open.ts';
import { FERRY_BIN } from '../testing/cli.ts';
import { tempDir } from '../testing/tree.ts';

/** Pids of the processes whose command line mentions `text`. */
async function processesWith(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) pids.push(Number(name));
  }
  return pids;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const how of ['run as a program', 'given to the old node by name'] as const) {
  test(`${how}: the pid a user sees is the Node that works, and kill -9 ends it all`, async () => {
    const dir = await tempDir('ferry-launcher-');
    const oldNode = join(dir, 'node');
    await writeFile(oldNode, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} --no-experimental-strip-types "$@"\n`);
    await chmod(oldNode, 0o755);
    const ledger = join(dir, 'ledger.sqlite');
    await (await openLedger(ledger)).close();
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, NODE_OPTIONS: '' };
    const args = ['status', '--watch', '1', '--ledger', ledger];
    const child = how === 'run as a program' ? spawn(FERRY_BIN, args, { env }) : spawn(oldNode, [FERRY_BIN, ...args], { env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise((r) => child.on('exit', r));
    try {
      await waitFor('the status table', () => (/no runs in the ledger/.test(out) ? true : undefined));
      assert.deepEqual(await processesWith(ledger), [child.pid], 'one process, the one started');
      assert.equal(await realpath(await readlink(`/proc/${child.pid}/exe`)), await realpath(join(FERRY_BIN, '..', '..', 'node_modules', 'node', 'bin', 'node')));
      process.kill(child.pid!, 'SIGKILL');
      await exited;
      assert.deepEqual(await processesWith(ledger), [], 'nothing left running after kill -9');
    } finally {
      for (const pid of await processesWith(ledger)) process.kill(pid, 'SIGKILL');
    }
  });
}

test('bundled dependencies: used only while the installed package is the version bundled', async () => {
  const { bundledDeps } = await import('../../bin/bundled-deps.ts');
  const dir = await tempDir('ferry-bundles-');
  const nodeModules = new URL(`file://${dir}/node_modules/`);
  const bundles = new URL('.cache/ferry-bundles/', nodeModules);
  assert.equal(bundledDeps(bundles, nodeModules).size, 0, 'no bundles: the packages themselves');
  await mkdir(new URL('kysely/', nodeModules), { recursive: true });
  await mkdir(bundles, { recursive: true });
  await writeFile(new URL('kysely/package.json', nodeModules), JSON.stringify({ version: '0.29.9' }));
  const entries = { kysely: 'kysely/kysely.mjs', 'kysely/migration': 'kysely/kysely__migration.mjs' };
  await writeFile(new URL('manifest.json', bundles), JSON.stringify({ kysely: { version: '0.29.9', entries }, zod: { version: '4.0.0', entries: { zod: 'zod/zod.mjs' } } }));
  const map = bundledDeps(bundles, nodeModules);
  assert.deepEqual([...map.keys()], ['kysely', 'kysely/migration'], 'zod is not installed: not bundled');
  assert.equal(map.get('kysely'), new URL('kysely/kysely.mjs', bundles).href);
  await writeFile(new URL('kysely/package.json', nodeModules), JSON.stringify({ version: '0.30.0' }));
  assert.equal(bundledDeps(bundles, nodeModules).size, 0, 'a package updated since it was bundled: the package itself');
});

test('this install loads Kysely and zod from their bundles in a ferry process', async () => {
  const script = `const m = await import(${JSON.stringify(new URL('../../bin/bundled-deps.ts', import.meta.url).href)}); m.useBundledDeps();
    console.log(JSON.stringify(['kysely', 'kysely/migration', 'zod'].map((s) => import.meta.resolve(s))));`;
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))));
  });
  const urls = JSON.parse(out) as string[];
  for (const url of urls) assert.match(url, /\/node_modules\/\.cache\/ferry-bundles\//, `${url}: run npm install (its postinstall bundles them)`);
});
