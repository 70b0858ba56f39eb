import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FIXTURE, datHeader, layerTiles, restartAcquisition, tileName, writeAcquisition, writeDat } from '../../../testing/render-acquisition.ts';
import { rejectsWith } from '../../../testing/refusal.ts';
import { tempDir } from '../../../testing/tree.ts';
import { loadTab } from '../tab.ts';
import type { Tab } from '../tab.ts';
import { makeStageFolders, testTabLayout, writeTabYaml } from '../../../testing/fibsem-tab.ts';
import type { TestTabLayout } from '../../../testing/fibsem-tab.ts';
import { planRenderImport, renderImportPreview } from './plan.ts';
import type { PlanRenderImportOptions } from './plan.ts';

const RENDER = { url: 'http://renderer:8080/render-ws/v1', owner: 'Z0720_07m_VNC', project: 'Sec26', maskDir: 'masks' };

async function tab(render: Record<string, unknown> | undefined = RENDER): Promise<{ l: TestTabLayout; tab: Tab; cleanup: () => Promise<void> }> {
  const l = testTabLayout(await tempDir('ferry-render-plan-'));
  await makeStageFolders(l);
  await writeTabYaml(l, { host: 'jeiss8.hhmi.org' }, render ? { render } : {});
  return { l, tab: await loadTab(l.yaml), cleanup: () => rm(l.root, { recursive: true, force: true }) };
}

test('the tab\'s archived .dat headers become `<stack>_restart` and `<stack>`, in batches, with the tab\'s images and masks', async () => {
  const t = await tab();
  try {
    writeAcquisition(t.l.archiveDat, restartAcquisition());
    const plan = await planRenderImport(t.tab, { batchSize: 50 });
    assert.deepEqual(plan.target, { url: RENDER.url, owner: 'Z0720_07m_VNC', project: 'Sec26', stack: 'v1_acquire' });
    assert.deepEqual(plan.stacks.map((s) => [s.stack, s.tiles.length, s.expected.sectionCount, s.batches.map((b) => b.end - b.start)]), [
      ['v1_acquire_restart', 64, 10, [50, 14]],
      ['v1_acquire', 78, 12, [50, 28]],
    ]);
    assert.equal(plan.datFiles, 78);
    assert.deepEqual(plan.groups.map((g) => g.restartCondition?.split(':')[0]), ['acquisition_delay', 'change_header_stagez', 'change_header_stagez', 'change_tile_count', undefined]);
    assert.match(plan.stacks[1].batches[1].key, /^Z0720_07m_VNC\/Sec26\/v1_acquire\/1-[0-9a-f]{16}$/);
    assert.deepEqual(plan.images, { inLensDir: t.l.inLensPng, maskDir: join(t.l.root, 'masks') });

    const preview = renderImportPreview(plan) as { stacks: { tileSpecs: { tileId: string; mipmapLevels: Record<string, unknown> }[] }[] };
    const spec = preview.stacks[1].tileSpecs[0];
    assert.equal(spec.tileId, '21-08-23_084156_0-0-0.1.0');
    assert.deepEqual(spec.mipmapLevels['0'], {
      imageUrl: `file:${t.l.inLensPng}/Merlin-6285_21-08-23_084156_0-0-0-InLens.png`,
      maskUrl: `file:${join(t.l.root, 'masks')}/mask_100x100_left_100.tif`,
    });
    // Planning again gives the same batch keys (a resumed import finds its finished batches).
    assert.deepEqual((await planRenderImport(t.tab, { batchSize: 50 })).stacks.map((s) => s.batches.map((b) => b.key)), plan.stacks.map((s) => s.batches.map((b) => b.key)));
  } finally {
    await t.cleanup();
  }
});

test('flags override the render: block; a missing target is named', async () => {
  const t = await tab({ url: RENDER.url, owner: 'flyem' });
  try {
    writeAcquisition(t.l.archiveDat, layerTiles('21-08-23_084156', 1, 2, 1));
    await rejectsWith(planRenderImport(t.tab), 'RenderNoTarget', /no Render --project given for Z0720-07m_TEST_Sec01/);
    const plan = await planRenderImport(t.tab, { project: 'Sec01', stack: 'v2_acquire', url: 'http://other:8080/render-ws/v1' } satisfies PlanRenderImportOptions);
    assert.deepEqual(plan.target, { url: 'http://other:8080/render-ws/v1', owner: 'flyem', project: 'Sec01', stack: 'v2_acquire' });
    // No restarts: no `_restart` stack; no mask folder: no masks.
    assert.deepEqual(plan.stacks.map((s) => s.stack), ['v2_acquire']);
    assert.equal(plan.images.maskDir, undefined);
  } finally {
    await t.cleanup();
  }
});

test('names render-ws would refuse stop the plan before any file is read', async () => {
  const t = await tab({ ...RENDER, project: 'jrc_mus-cortex_1' });
  try {
    await rm(t.l.archiveDat, { recursive: true }); // reading would fail differently
    await rejectsWith(planRenderImport(t.tab), 'RenderBadName', /invalid project 'jrc_mus-cortex_1': render-ws accepts only letters, digits and single underscores/);
    await rejectsWith(planRenderImport(t.tab, { project: 'Sec26', stack: `v${'x'.repeat(75)}` }), 'RenderBadName', /too long together/);
  } finally {
    await t.cleanup();
  }
});

test('transferred = archive ∪ transfer folder; a tile in both is read from the archive', async () => {
  const t = await tab();
  try {
    const tiles = layerTiles('21-08-23_084156', 1, 3, 1);
    writeAcquisition(t.l.archiveDat, tiles.slice(0, 2));
    writeAcquisition(t.l.transferredDat, tiles.slice(1)); // 0-0-1 in both, 0-0-2 not archived yet
    writeDat(join(t.l.transferredDat, tileName(tiles[1])), datHeader({ ...tiles[1].fields, FirstX: 5 }));
    const plan = await planRenderImport(t.tab);
    assert.deepEqual(plan.stacks[0].tiles.map((x) => [x.tileId, x.stageX]), [
      ['21-08-23_084156_0-0-0.1.0', -2625],
      ['21-08-23_084156_0-0-1.1.0', -2535],
      ['21-08-23_084156_0-0-2.1.0', -2445],
    ]);
  } finally {
    await t.cleanup();
  }
});

test('version-8 files (no FirstX/FirstY) of the real tile size, then a narrower scan: positions by the pipeline\'s formula, a restart, masks per size', async () => {
  const t = await tab();
  try {
    const v8 = (width: number) => ({ FileVersion: 8, XResolution: width, YResolution: 6250 });
    const tiles = [
      ...layerTiles('21-08-23_084156', 1, 2, 1, v8(6250)),
      ...layerTiles('21-08-23_084226', 1, 2, 2, v8(6250)),
      ...layerTiles('21-08-23_084256', 1, 2, 3, v8(3125)),
      ...layerTiles('21-08-23_084326', 1, 2, 4, v8(3125)),
    ];
    writeAcquisition(t.l.archiveDat, tiles);
    const plan = await planRenderImport(t.tab);
    assert.deepEqual(plan.groups.map((g) => g.restartCondition?.split(':')[0]), ['change_header_xresolution', undefined]);
    // The fixture's PixelSize (7.99986 nm) makes the 2 µm overlap 250.0045 px: column 1 sits at
    // 400 + round(6250 - 250.0045) = 6400, and at 400 + round(3125 - 250.0045) = 3275 once narrower.
    const main = plan.stacks.at(-1)!;
    assert.deepEqual(main.tiles.map((x) => [x.z, x.col, x.stageX, x.stageY, x.width]), [
      [1, 0, 400, 400, 6250],
      [1, 1, 6400, 400, 6250],
      [2, 0, 400, 400, 6250],
      [2, 1, 6400, 400, 6250],
      [3, 0, 400, 400, 3125],
      [3, 1, 3275, 400, 3125],
      [4, 0, 400, 400, 3125],
      [4, 1, 3275, 400, 3125],
    ]);
    const masks = renderImportPreview(plan) as { stacks: { tileSpecs: { mipmapLevels: Record<string, { maskUrl: string }> }[] }[] };
    assert.deepEqual(masks.stacks.at(-1)!.tileSpecs.map((x) => x.mipmapLevels['0'].maskUrl.split('/').pop()), [...Array(4).fill('mask_6250x6250_left_100.tif'), ...Array(4).fill('mask_3125x6250_left_100.tif')]);
  } finally {
    await t.cleanup();
  }
});

test('unreadable or truncated .dat files are named and stop the plan; --allow-missing plans without them', async () => {
  const t = await tab();
  try {
    const tiles = [...layerTiles('21-08-23_084156', 1, 3, 1), ...layerTiles('21-08-23_084226', 1, 3, 2), ...layerTiles('21-08-23_084256', 1, 3, 3)];
    writeAcquisition(t.l.archiveDat, tiles);
    const at = (i: number) => join(t.l.archiveDat, tileName(tiles[i]));
    writeDat(at(4), datHeader(tiles[4].fields), 30_000); // pixels cut short
    writeDat(at(5), datHeader(tiles[5].fields), 500); // header cut short
    writeFileSync(join(t.l.archiveDat, 'Merlin-6285_21-08-23_084256_0-0-3.dat'), readFileSync(FIXTURE).subarray(4)); // no magic number
    await rm(at(8));
    symlinkSync('/nonexistent/tile.dat', at(8)); // dangling

    const e = await rejectsWith(planRenderImport(t.tab), 'RenderUnreadableDat', /^4 \.dat file\(s\) cannot be used, so their layers would have holes: /);
    assert.equal(e.exitCode, 1);
    for (const part of [
      `${at(4)} (truncated: the header says 41024 bytes, the file has 30000)`,
      `${at(5)} (truncated .dat header: expected 1024 bytes, got 500)`,
      'Merlin-6285_21-08-23_084256_0-0-3.dat (not a FIB-SEM .dat file (magic number',
      `${at(8)} (cannot be read: ENOENT)`,
    ]) {
      assert.ok(e.message.includes(part), `${part} not in ${e.message}`);
    }

    const plan = await planRenderImport(t.tab, { allowMissing: true });
    assert.deepEqual(plan.skipped.map((s) => s.name).sort(), [tileName(tiles[4]), tileName(tiles[5]), 'Merlin-6285_21-08-23_084256_0-0-3.dat', tileName(tiles[8])].sort());
    // Layer 2 lost two of its three tiles: the pipeline's rules make that a tile-count restart.
    assert.deepEqual(plan.groups.map((g) => [g.firstZ, g.tilesPerLayer, g.restartCondition?.split(':')[0]]), [[1, 3, 'change_tile_count'], [2, 1, 'change_tile_count'], [3, 2, undefined]]);
  } finally {
    await t.cleanup();
  }
});

test('an acquisition with no .dat files is refused, naming the folders', async () => {
  const t = await tab();
  try {
    await mkdir(join(t.l.archiveDat, 'sub.dat'));
    writeFileSync(join(t.l.archiveDat, 'notes.txt'), 'not a tile');
    await rejectsWith(planRenderImport(t.tab), 'RenderNoTiles', new RegExp(`no \\.dat files in ${t.l.archiveDat} or ${t.l.transferredDat}`));
  } finally {
    await t.cleanup();
  }
});
