// Render import of a seed-sized acquisition: 120,000 tiles (30,000 layers of one row of four, the
// Z0720-07m layout) with a few restarts, as synthetic `.dat` headers on disk (sparse files of the
// size their headers promise). Reports, warm cache:
//   - header reading and planning, in this process (tiles/s; target: 120,000 tiles planned in
//     under 10 s on 2 cores),
//   - the whole import as a user runs it: `ferry fibsem render-import` in its own process, its
//     ledger jobs run stage by stage (both stacks, batches of 5,000, 3 in flight), into the
//     render-ws stand-in (src/testing/render-ws.ts, in a process of its own, as a real service
//     would be), then both stacks read back and verified,
//   - an import killed with SIGKILL half-way through the main stack's batches, then the same
//     command again: how long the resume takes and how many batches it sent.
// The stand-in keeps stacks in memory and has no MongoDB behind it: import figures are Ferry's
// side of the work, not what a real render-ws will take.
//
//   node bench/render.ts [--tiles 120000]
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { layerTiles, writeAcquisition } from '../src/testing/render-acquisition.ts';
import type { TestTile } from '../src/testing/render-acquisition.ts';
import { planStackTiles } from '../src/formats/render/plan.ts';
import { openLedger } from '../src/ledger/open.ts';
import { readTabDatHeaders } from '../src/recipes/fibsem/render/dat-headers.ts';
import { planRenderImport } from '../src/recipes/fibsem/render/plan.ts';
import { loadTab } from '../src/recipes/fibsem/tab.ts';
import { makeStageFolders, testTabLayout, writeTabYaml } from '../src/testing/fibsem-tab.ts';
import { startFerry } from '../src/testing/cli.ts';
import { tempDir } from '../src/testing/tree.ts';

const { values } = parseArgs({ options: { tiles: { type: 'string', default: '120000' } } });
const COLS = 4;
const LAYERS = Math.ceil(Number(values.tiles) / COLS);

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

interface Command {
  child: ChildProcess;
  /** Seconds from the start to the plan (headers read, plan kept in the ledger, stacks checked). */
  planned: Promise<number>;
  /** Batches this command sent, from its --json events. */
  batches(): number;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; seconds: number; stderr: string; report: string[] }>;
}

/** `ferry --json fibsem render-import` in its own process, its events followed as they come. */
function importCommand(yaml: string, ledger: string): Command {
  const t0 = performance.now();
  const child = startFerry(['--json', 'fibsem', 'render-import', yaml, '--ledger', ledger]);
  child.stdin!.end();
  let sent = 0;
  let stderr = '';
  const report: string[] = [];
  let planned!: (s: number) => void;
  const plannedAt = new Promise<number>((resolve) => (planned = resolve));
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const e = JSON.parse(line) as { type: string; kind?: string; state?: string; lines?: string[] };
      if (e.type === 'renderPlan') planned(seconds(t0));
      if (e.type === 'renderStep' && e.kind === 'render.batch' && e.state === 'success') sent++;
      if (e.type === 'report') report.push(...e.lines!);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<Awaited<Command['exit']>>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, seconds: seconds(t0), stderr, report })));
  return { child, planned: plannedAt, batches: () => sent, exit };
}

/** Main-stack batch jobs the ledger has as done. */
async function mainBatchesDone(ledger: string): Promise<number> {
  const l = await openLedger(ledger, { mustExist: true });
  try {
    return (await l.listJobs({ kind: 'render.batch', states: ['success'] })).filter((j) => j.key.includes('/v1_acquire/')).length;
  } finally {
    await l.close();
  }
}

const l = testTabLayout(await tempDir('ferry-bench-render-'));
const service = await startService();
try {
  await makeStageFolders(l);
  const t0 = performance.now();
  const tiles = acquisition();
  writeAcquisition(l.archiveDat, tiles);
  const render = { url: service.url, owner: 'Z0720_07m_VNC', maskDir: '/groups/flyem/data/render/pre_iso/masks' };
  await writeTabYaml(l, { host: 'jeiss8.hhmi.org' }, { render: { ...render, project: 'Bench' } });
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
  const sentTiles = plan.stacks.reduce((n, s) => n + s.tiles.length, 0);
  const main = plan.stacks.at(-1)!;
  console.log(`\nheader reading:                     ${tRead.toFixed(2)} s  (${rate(tiles.length, tRead)})`);
  console.log(`layer groups, specs, z:             ${tPlan.toFixed(2)} s  (${rate(tiles.length, tPlan)}; ${planned.main.length} + ${planned.restart.length} tiles, ${restarts} restarts)`);
  console.log(`planRenderImport (all of it):       ${tWhole.toFixed(2)} s  (${rate(tiles.length, tWhole)})   target: 120,000 tiles in < 10 s -> ${tiles.length >= 120_000 ? (tWhole < 10 ? 'met' : 'NOT met') : 'n/a (fewer tiles)'}`);

  // The whole import, as a user runs it.
  const whole = importCommand(l.yaml, join(l.root, 'import.sqlite'));
  const wholePlanned = await whole.planned;
  const done = await whole.exit;
  if (done.code !== 0) throw new Error(`ferry fibsem render-import exited ${done.code}: ${done.stderr}`);
  const tImport = done.seconds - wholePlanned;
  console.log(`\nferry fibsem render-import:         ${done.seconds.toFixed(2)} s  (${rate(tiles.length, done.seconds)} of the acquisition, start to exit 0)`);
  console.log(`  of which planning:                ${wholePlanned.toFixed(2)} s  (headers, plan, plan kept in the ledger, stacks checked)`);
  console.log(`  jobs: open, ${whole.batches()} batches, finish, verify: ${tImport.toFixed(2)} s  (${rate(sentTiles, tImport)} sent, ${sentTiles} tiles in both stacks)`);
  for (const line of done.report.slice(1)) console.log(`  ${line.trim()}`);

  // Killed (SIGKILL) half-way through the main stack's batches, then the same command again.
  await writeTabYaml(l, { host: 'jeiss8.hhmi.org' }, { render: { ...render, project: 'Bench_resume' } });
  const ledger = join(l.root, 'resume.sqlite');
  const half = Math.floor(main.batches.length / 2);
  const killed = importCommand(l.yaml, ledger);
  await killed.planned; // the ledger is ready from then on
  while ((await mainBatchesDone(ledger)) < half) await new Promise((r) => setTimeout(r, 50));
  killed.child.kill('SIGKILL');
  await killed.exit;
  const doneBeforeKill = await mainBatchesDone(ledger);
  const resumed = importCommand(l.yaml, ledger);
  const resumedPlanned = await resumed.planned;
  const end = await resumed.exit;
  if (end.code !== 0) throw new Error(`the resumed import exited ${end.code}: ${end.stderr}`);
  console.log(`\nkilled with ${doneBeforeKill} of ${main.batches.length} main-stack batches done; the same command again:`);
  console.log(`  resume to exit 0:                 ${end.seconds.toFixed(2)} s  (planning again ${resumedPlanned.toFixed(2)} s; ${resumed.batches()} batches sent, the killed command had left ${main.batches.length - doneBeforeKill} unfinished; finish and verify)`);
  console.log('  (the killed command\'s batches in flight come back when their 10 s lease expires: the resume waits for that)');
  console.log('\n(the stand-in runs in its own process on the same 2 cores as Ferry)');
} finally {
  service.stop();
  await rm(l.root, { recursive: true, force: true });
}
