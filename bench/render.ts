// Render import of a seed-sized acquisition: 120,000 tiles (30,000 layers of one row of four, the
// Z0720-07m layout) with a few restarts, as synthetic `.dat` headers on disk (sparse files of the
// size their headers promise). Reports, warm cache:
//   - header reading and planning (tiles/s; target: 120,000 tiles in under 10 s on 2 cores),
//   - the import into the render-ws stand-in (src/testing/render-ws.ts, in its own process, as a
//     real service would be), both stacks, batches of 5,000, 3 in flight; then verification,
//   - resuming an import stopped half-way through the main stack.
// The stand-in keeps stacks in memory and has no MongoDB behind it: import figures are Ferry's
// side of the work, not what a real render-ws will take.
//
//   node bench/render.ts [--tiles 120000]
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { layerTiles, writeAcquisition } from '../src/formats/render/acquisition-test-support.ts';
import type { TestTile } from '../src/formats/render/acquisition-test-support.ts';
import { planStackTiles } from '../src/formats/render/plan.ts';
import { mapLimited } from '../src/map-limited.ts';
import { RenderClient } from '../src/render/client.ts';
import { finishStack, openStack, sendBatch } from '../src/render/import.ts';
import type { StackImport } from '../src/render/stack-import.ts';
import { verifyStack } from '../src/render/verify.ts';
import { readTabDatHeaders } from '../src/recipes/fibsem/render/dat-headers.ts';
import { planRenderImport } from '../src/recipes/fibsem/render/plan.ts';
import { loadTab } from '../src/recipes/fibsem/tab.ts';
import { makeStageFolders, testTabLayout, writeTabYaml } from '../src/recipes/fibsem/test-tab.ts';
import { tempDir } from '../src/testing/tree.ts';

const { values } = parseArgs({ options: { tiles: { type: 'string', default: '120000' } } });
const COLS = 4;
const LAYERS = Math.ceil(Number(values.tiles) / COLS);
const IN_FLIGHT = 3;

/**
 * 30 s a layer from 2021-08-23 08:41:56; a 20-minute pause every 7,000 layers; the stage moved every
 * 11,000, and for layer 15,000 alone (a one-layer group: patched).
 */
function acquisition(): TestTile[] {
  const tiles: TestTile[] = [];
  let t = Date.UTC(2021, 7, 23, 8, 41, 56);
  for (let z = 1; z <= LAYERS; z++) {
    t += z % 7000 === 0 ? 20 * 60_000 : 30_000;
    const d = new Date(t);
    const p = (n: number) => String(n).padStart(2, '0');
    const stamp = `${p(d.getUTCFullYear() % 100)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}_${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
    tiles.push(...layerTiles(stamp, 1, COLS, z, { StageZ: z === 15_000 ? 99 : 30 + Math.floor(z / 11_000) }));
  }
  return tiles;
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;
const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString('en')} tiles/s`;

async function startService(): Promise<{ url: string; stop(): void }> {
  const module = pathToFileURL(new URL('../src/testing/render-ws.ts', import.meta.url).pathname).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', `const { startRenderWs } = await import(${JSON.stringify(module)}); console.log((await startRenderWs()).url);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (b: Buffer) => resolve(b.toString().trim()));
    child.once('exit', (code) => reject(new Error(`render-ws stand-in exited (${code})`)));
  });
  return { url, stop: () => child.kill() };
}

/** open, every batch not in `skip` (IN_FLIGHT at once) unless stopped after `limit`, then finish. */
async function importStack(client: RenderClient, s: StackImport, opts: { skip?: Set<string>; limit?: number; done?: Set<string> } = {}): Promise<boolean> {
  await openStack(client, s);
  const todo = s.batches.filter((b) => !opts.skip?.has(b.key)).slice(0, opts.limit);
  await mapLimited(todo, IN_FLIGHT, async (b) => {
    await sendBatch(client, s, b);
    opts.done?.add(b.key);
  });
  if (opts.limit !== undefined && todo.length < s.batches.length - (opts.skip?.size ?? 0)) return false;
  await finishStack(client, s);
  return true;
}

const l = testTabLayout(await tempDir('ferry-bench-render-'));
const service = await startService();
try {
  await makeStageFolders(l);
  const t0 = performance.now();
  const tiles = acquisition();
  writeAcquisition(l.archiveDat, tiles);
  await writeTabYaml(l, { host: 'jeiss8.hhmi.org' }, { render: { url: service.url, owner: 'Z0720_07m_VNC', project: 'Bench', maskDir: '/groups/flyem/data/render/pre_iso/masks' } });
  const tab = await loadTab(l.yaml);
  console.log(`${tiles.length} tiles (${LAYERS} layers of 1 x ${COLS}) written in ${seconds(t0).toFixed(1)} s; ${availableParallelism()} cores, load ${loadavg()[0].toFixed(1)}`);

  await readTabDatHeaders(tab); // warm the cache and the code
  let t = performance.now();
  const read = await readTabDatHeaders(tab);
  const tRead = seconds(t);
  t = performance.now();
  const planned = planStackTiles(read.tiles);
  const tPlan = seconds(t);
  t = performance.now();
  const plan = await planRenderImport(tab);
  const tWhole = seconds(t);
  const restarts = plan.groups.filter((g) => g.restartCondition).length;
  console.log(`\nheader reading:                     ${tRead.toFixed(2)} s  (${rate(tiles.length, tRead)})`);
  console.log(`layer groups, specs, z:             ${tPlan.toFixed(2)} s  (${rate(tiles.length, tPlan)}; ${planned.main.length} + ${planned.restart.length} tiles, ${restarts} restarts)`);
  console.log(`planRenderImport (all of it):       ${tWhole.toFixed(2)} s  (${rate(tiles.length, tWhole)})   target: 120,000 tiles in < 10 s -> ${tiles.length >= 120_000 ? (tWhole < 10 ? 'met' : 'NOT met') : 'n/a (fewer tiles)'}`);

  const sentTiles = plan.stacks.reduce((n, s) => n + s.tiles.length, 0);
  const client = new RenderClient(plan.target);
  t = performance.now();
  for (const s of plan.stacks) await importStack(client, s);
  const tImport = seconds(t);
  t = performance.now();
  const checks = await Promise.all(plan.stacks.map((s) => verifyStack(client, s)));
  const tVerify = seconds(t);
  if (!checks.every((c) => c.ok)) throw new Error(`verification failed: ${JSON.stringify(checks.map((c) => c.specs.mismatches))}`);
  console.log(`import, both stacks:                ${tImport.toFixed(2)} s  (${rate(sentTiles, tImport)} sent; ${rate(tiles.length, tImport)} of the acquisition)`);
  const sample = checks.at(-1)!.specs;
  console.log(`verification (${sample.layers.length} of ${sample.layersTotal} layers):   ${tVerify.toFixed(2)} s`);

  // Stopped half-way through the main stack, then resumed as a new run: plan again, then the
  // batches the ledger does not have as done, then finish.
  const resumeTab = { ...tab, render: { ...tab.render, project: 'Bench_resume' } };
  const first = await planRenderImport(resumeTab);
  const done = new Set<string>();
  const main = first.stacks.at(-1)!;
  for (const s of first.stacks.slice(0, -1)) await importStack(client, s, { done });
  await importStack(client, main, { limit: Math.floor(main.batches.length / 2), done });
  t = performance.now();
  const again = await planRenderImport(resumeTab);
  const tReplan = seconds(t);
  t = performance.now();
  await importStack(client, again.stacks.at(-1)!, { skip: done });
  const tRest = seconds(t);
  console.log(`resume half-way, by batch:          ${(tReplan + tRest).toFixed(2)} s  (plan again ${tReplan.toFixed(2)} s + remaining ${main.batches.length - Math.floor(main.batches.length / 2)} of ${main.batches.length} batches and finish ${tRest.toFixed(2)} s)`);
  const ok = (await verifyStack(client, again.stacks.at(-1)!)).ok;
  if (!ok) throw new Error('resumed stack did not verify');
  client.close();
  console.log('\n(the stand-in runs in its own process on the same 2 cores; the resume by batch skips the batches this run recorded as done, as the ledger will once batches are jobs)');
} finally {
  service.stop();
  await rm(l.root, { recursive: true, force: true });
}
