// Neuroglancer's own viewer, in headless Chromium, opens what `ferry volume plan` + `ferry work`
// wrote, served by `ferry volume serve`: the values the viewer decodes under the mouse are the
// section voxels there, for an unsharded raw volume and a sharded gzip one (Range reads), and for
// an aligned stack at its aligned coordinates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';
import { jsonLines, startFerry } from '../../testing/cli.ts';
import { tempDir } from '../../testing/tree.ts';
import { SAFETY_NET_MS, until } from '../../testing/until.ts';
import { serveFolder } from '../../volume/serve.ts';
import { requireH5py } from '../../testing/hdf5.ts';
import { ALIGNED_SECTIONS, ALIGNED_UNION, alignedVoxel, ingest, stackVoxel, writeAlignedStack, writeStack } from '../../testing/volume.ts';

function requireEnv(name: string, script: string): string {
  const v = process.env[name];
  if (!v) assert.fail(`${name} is not set: run \`bash scripts/services/${script} start && eval "$(bash scripts/services/${script} env)"\` (or scripts/test-all.sh)`);
  return v;
}

async function serveDataset(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const child = startFerry(['--json', 'volume', 'serve', dir]);
  let out = '';
  const url = await new Promise<string>((ok, fail) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const ev = out.includes('\n') ? jsonLines(out).find((e) => e.type === 'serving') : undefined;
      if (ev) ok(ev.url as string);
    });
    child.on('exit', (code) => fail(new Error(`ferry volume serve exited with ${code}: ${out}`)));
  });
  return { url, stop: () => new Promise((ok) => (child.once('exit', () => ok()), child.kill('SIGTERM'))) };
}

/**
 * Moves the mouse over `(fx, fy)` of the slice panel; returns the voxel under it and the value
 * the layer shows for it, once every visible chunk has arrived (the readiness Neuroglancer's own
 * screenshots wait for) and both have held still for two polls (the value follows the mouse a
 * frame later).
 */
async function valueUnderMouse(page: Page, fx: number, fy: number): Promise<{ voxel: number[]; value: string }> {
  const panel = (await page.locator('.neuroglancer-rendered-data-panel').first().boundingBox())!;
  await page.mouse.move(panel.x + panel.width * fx, panel.y + panel.height * fy);
  let last = '';
  return until(() => `a steady value under the mouse at ${fx},${fy} (last seen: ${last})`, async () => {
    const now = await page.evaluate(() => {
      // Runs in the page, where Neuroglancer puts its viewer on the global object.
      const page = globalThis as any;
      const v = page.viewer;
      const value: string = page.document.querySelector('.neuroglancer-layer-item-value')?.textContent ?? '';
      const voxel: number[] = v.mouseState.active ? Array.from(v.mouseState.position as Float32Array).map(Math.floor) : [];
      return { voxel, value, ready: v.display.isReady() as boolean };
    });
    const key = JSON.stringify(now);
    const steady = now.ready && now.value !== '' && now.voxel.length === 3 && key === last;
    last = key;
    return steady && { voxel: now.voxel, value: now.value };
  }, SAFETY_NET_MS, 200);
}

/**
 * Looks at a dataset folder in Neuroglancer: serves it with `ferry volume serve`, opens the viewer
 * at `position` (voxels), lets `probe` read values under the mouse, then checks that every request
 * for the dataset succeeded and keeps a screenshot.
 */
type View = (dir: string, position: number[], probe: (page: Page) => Promise<void>) => Promise<void>;

/** Chromium with Neuroglancer's viewer, and a scratch folder (kept with FERRY_KEEP_SCREENSHOTS), for the length of `use`. */
async function withViewer(use: (root: string, view: View) => Promise<void>): Promise<void> {
  const chromiumPath = requireEnv('FERRY_TEST_CHROMIUM', 'chromium.sh');
  const appDir = requireEnv('FERRY_TEST_NEUROGLANCER_DIR', 'neuroglancer.sh');
  const root = await tempDir('ferry-ng-');
  const app = await serveFolder(appDir);
  const context = await chromium.launchPersistentContext(await mkdtemp(join(root, 'profile-')), {
    executablePath: chromiumPath,
    headless: true,
    // Without the background-networking flags Chromium waits on services the closed network lacks.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 800, height: 600 },
  });
  // Chromium and Neuroglancer start slowly on a busy machine: Playwright's own 30 s waits are not
  // what this test is about.
  context.setDefaultTimeout(SAFETY_NET_MS);
  const view: View = async (dir, position, probe) => {
    const data = await serveDataset(dir);
    try {
      const page = await context.newPage();
      const failed: string[] = [];
      page.on('response', (r) => {
        if (r.status() >= 400 && r.url().startsWith(data.url)) failed.push(`${r.status()} ${r.url()}`);
      });
      // 1 nm per screen pixel: each 4 nm voxel is 4 pixels wide, so the mouse lands on whole voxels.
      const state = { layers: [{ type: 'image', source: `precomputed://${data.url.replace(/\/$/, '')}`, name: 'ferry' }], position, crossSectionScale: 1e-9, layout: 'xy' };
      await page.goto(`${app.url}#!${encodeURIComponent(JSON.stringify(state))}`);
      await probe(page);
      assert.deepEqual(failed, [], 'every request for the dataset succeeded');
      await page.screenshot({ path: `${dir}.png` });
      await page.close();
    } finally {
      await data.stop();
    }
  };
  try {
    await use(root, view);
  } finally {
    await context.close();
    await app.close();
    if (process.env.FERRY_KEEP_SCREENSHOTS) console.log(`screenshots kept in ${root}`);
    else await rm(root, { recursive: true, force: true });
  }
}

const POINTS = [[0.5, 0.5], [0.3, 0.35], [0.7, 0.6], [0.45, 0.8], [0.62, 0.22]];

test('Neuroglancer in Chromium shows the voxel values Ferry wrote, unsharded and sharded, served by ferry volume serve', async () => {
  await withViewer(async (root, view) => {
    const size: [number, number, number] = [150, 130, 10];
    const stack = await writeStack(join(root, 'sections'), size, 'uint8');
    for (const sharded of [false, true]) {
      const out = join(root, sharded ? 'sharded' : 'plain');
      await ingest(join(root, 'ledger.sqlite'), [
        stack.dir, out, '--voxel-size', '4,4,40', '--chunk', '32,32,4', '--task-size', '64,64,8', '--scales', '2', '--nonzero-threshold', '0', '--run', out,
        ...(sharded ? ['--sharded'] : []),
      ]);
      await view(out, [75.5, 65.5, 4.5], async (page) => {
        const seen = new Set<string>();
        for (const [fx, fy] of POINTS) {
          const { voxel, value } = await valueUnderMouse(page, fx, fy);
          const [x, y, z] = voxel;
          assert.ok(x >= 0 && x < size[0] && y >= 0 && y < size[1] && z === 4, `mouse over voxel ${voxel}`);
          assert.equal(Number(value), stackVoxel(x, y, z, 251), `${sharded ? 'sharded' : 'unsharded'}: value at voxel ${voxel}`);
          seen.add(voxel.join(','));
        }
        assert.ok(seen.size >= 4, `the mouse visited different voxels: ${[...seen]}`);
      });
    }
  });
});

test('Neuroglancer shows an aligned HDF5 stack at its aligned coordinates: negative offsets kept, zeros where no section is', async () => {
  requireH5py();
  await withViewer(async (root, view) => {
    const registry = await writeAlignedStack(join(root, 'aligned'), ALIGNED_SECTIONS);
    const out = join(root, 'aligned-out');
    await ingest(join(root, 'ledger.sqlite'), [registry, out, '--voxel-size', '4,4,40', '--chunk', '32,32,4', '--task-size', '64,64,4', '--sharded', '--nonzero-threshold', '0']);
    // z 3 is the section at 0,0 of 100 x 50: the view around it spans the union's negative corner.
    await view(out, [25.5, 32.5, 3.5], async (page) => {
      const values: number[] = [];
      const u = ALIGNED_UNION;
      for (const [fx, fy] of POINTS) {
        const { voxel, value } = await valueUnderMouse(page, fx, fy);
        const [x, y, z] = voxel;
        assert.ok(x >= u.start[0] && x < u.end[0] && y >= u.start[1] && y < u.end[1] && z === 3, `mouse over voxel ${voxel}`);
        const inSection = x >= 0 && x < 100 && y >= 0 && y < 50;
        assert.equal(Number(value), inSection ? alignedVoxel(x, y, z) : 0, `value at aligned voxel ${voxel}`);
        values.push(Number(value));
      }
      assert.ok(values.some((v) => v === 0) && values.some((v) => v !== 0), `both the section and the space around it were under the mouse: ${values}`);
    });
  });
});
