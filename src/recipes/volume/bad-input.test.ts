// Bad input to `ferry volume plan` / `ferry work`: a clear message and exit code, no jobs for a
// plan that cannot work, and never an `info` over a volume that is not whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scaleBox } from '../../formats/precomputed/grid.ts';
import { readBox, readInfo } from '../../formats/precomputed/reader.ts';
import { openStore } from '../../storage/open.ts';
import { runFerry } from '../../testing/cli.ts';
import { tempDir } from '../../testing/tree.ts';
import { requireH5py } from '../../testing/hdf5.ts';
import { ingest, sameVoxels, writeAlignedStack, writeChunkFlowConfig, writeSection, writeStack } from '../../testing/volume.ts';
import type { AlignedSection } from '../../testing/volume.ts';

const exists = (p: string) => stat(p).then(() => true, () => false);

async function planFails(root: string, args: string[], message: RegExp): Promise<void> {
  const r = await runFerry(['volume', 'plan', ...args, '--ledger', join(root, 'ledger.sqlite')]);
  assert.equal(r.code, 2, `expected exit 2:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(await exists(join(root, 'ledger.sqlite')), false, 'no ledger, no jobs');
  assert.equal(await exists(join(root, 'out')), false, 'nothing written to the destination');
}

test('sections of different sizes, or 8- and 16-bit mixed, are refused at plan time', async () => {
  const root = await tempDir('ferry-volume-bad-');
  try {
    const stack = await writeStack(join(root, 'sections'), [20, 16, 3], 'uint8');
    await writeSection(join(stack.dir, 'section_0003.png'), 21, 16, 'uint8', new Uint8Array(21 * 16));
    await planFails(root, [stack.dir, join(root, 'out'), '--voxel-size', '4,4,40'], /section_0003\.png is 21x16, but .*section_0000\.png is 20x16/);
    await writeSection(join(stack.dir, 'section_0003.png'), 20, 16, 'uint16', new Uint16Array(20 * 16));
    await planFails(root, [stack.dir, join(root, 'out'), '--voxel-size', '4,4,40'], /section_0003\.png is uint16, but .* is uint8/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('an unreadable section and a task size off the chunk grid are refused at plan time', async () => {
  const root = await tempDir('ferry-volume-bad-');
  try {
    const stack = await writeStack(join(root, 'sections'), [20, 16, 3], 'uint8');
    await planFails(root, [stack.dir, join(root, 'out'), '--voxel-size', '4,4,40', '--chunk', '16,16,4', '--task-size', '40,32,4'], /task size 40,32,4 is not a multiple of the chunk size 16,16,4/);
    await writeFile(join(stack.dir, 'section_0001.png'), 'not a png at all');
    await planFails(root, [stack.dir, join(root, 'out'), '--voxel-size', '4,4,40'], /section .*section_0001\.png is not a readable image/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a gap in the z numbering is an error, or zeros with --fill-gaps', async () => {
  const root = await tempDir('ferry-volume-bad-');
  try {
    const stack = await writeStack(join(root, 'sections'), [20, 16, 5], 'uint8', { firstNumber: 10 });
    await rm(join(stack.dir, 'section_0012.png'));
    await planFails(root, [stack.dir, join(root, 'out'), '--voxel-size', '4,4,40'], /skip number\(s\) 12 between 10 and 14/);
    await ingest(join(root, 'ledger.sqlite'), [stack.dir, join(root, 'out'), '--voxel-size', '4,4,40', '--chunk', '16,16,4', '--fill-gaps', '--nonzero-threshold', '0']);
    const store = await openStore(join(root, 'out'));
    try {
      const info = await readInfo(store);
      const expected = stack.voxels.slice();
      (expected as Uint8Array).fill(0, 2 * 20 * 16, 3 * 20 * 16);
      sameVoxels(await readBox(store, info, info.scales[0].key, scaleBox(info.scales[0])), expected, 'section 12 reads as zeros');
    } finally {
      await store.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a destination whose info disagrees with the plan: refused when planning, and tasks of the old plan fail without touching it', async () => {
  const root = await tempDir('ferry-volume-bad-');
  try {
    const stack = await writeStack(join(root, 'sections'), [32, 32, 4], 'uint8');
    const out = join(root, 'out');
    const ledger = join(root, 'ledger.sqlite');
    // Plan A is made but not run; plan B with other chunks finishes first.
    const a = await runFerry(['volume', 'plan', stack.dir, out, '--voxel-size', '4,4,40', '--chunk', '16,16,4', '--run', 'a', '--ledger', ledger]);
    assert.equal(a.code, 0, a.stderr);
    await ingest(ledger, [stack.dir, out, '--voxel-size', '4,4,40', '--chunk', '32,32,4', '--run', 'b']);
    const info = await readFile(join(out, 'info'));
    const again = await runFerry(['volume', 'plan', stack.dir, out, '--voxel-size', '4,4,40', '--chunk', '16,16,4', '--run', 'c', '--ledger', ledger]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /the info at .* disagrees with the plan \(scales\.0\.chunk_sizes\.0\.0: 32 there, 16 planned\)/);
    const work = await runFerry(['work', '--ledger', ledger, '--run', 'a', '--until-empty', '--retry-backoff', '0']);
    assert.equal(work.code, 1, work.stderr);
    const log = await runFerry(['jobs', 'list', '--ledger', ledger, '--json']);
    assert.match(log.stdout, /disagrees with the plan/);
    assert.ok((await readFile(join(out, 'info'))).equals(info), 'the finished volume is untouched');
    assert.deepEqual((await readdir(join(out, '4_4_40'))).sort(), ['0-32_0-32_0-4']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a section that turns unreadable after planning fails its task and no info appears', async () => {
  const root = await tempDir('ferry-volume-bad-');
  try {
    const stack = await writeStack(join(root, 'sections'), [32, 32, 8], 'uint8');
    const out = join(root, 'out');
    const ledger = join(root, 'ledger.sqlite');
    const plan = await runFerry(['volume', 'plan', stack.dir, out, '--voxel-size', '4,4,40', '--chunk', '16,16,4', '--task-size', '32,32,4', '--ledger', ledger]);
    assert.equal(plan.code, 0, plan.stderr);
    await writeFile(join(stack.dir, 'section_0006.png'), Buffer.alloc(100, 7));
    const work = await runFerry(['work', '--ledger', ledger, '--until-empty', '--retry-backoff', '0']);
    assert.equal(work.code, 1);
    assert.equal(await exists(join(out, 'info')), false, 'a half-written volume has no info');
    assert.ok(await exists(join(out, '4_4_40', '0-16_0-16_0-4')), 'the other task did its part');
    const jobs = await runFerry(['jobs', 'list', '--ledger', ledger, '--json']);
    assert.match(jobs.stdout, /section_0006\.png is not a readable image/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('more scales than the volume can shrink to, or an info of absurd size, are refused at plan time, saying the bound', async () => {
  const root = await tempDir('ferry-volume-bad-');
  try {
    const stack = await writeStack(join(root, 'sections'), [64, 48, 6], 'uint8');
    await planFails(root, [stack.dir, join(root, 'out'), '--voxel-size', '4,4,40', '--scales', '100'], /--scales 100: scale 8 would be 1x1x6, no smaller than scale 7; this volume has at most 7 scale\(s\)/);
    const huge = join(root, 'huge');
    await mkdir(huge);
    const info = { '@type': 'neuroglancer_multiscale_volume', type: 'image', data_type: 'uint8', num_channels: 1, scales: [{ key: 's0', size: [1e9, 1e9, 1e9], resolution: [1, 1, 1], voxel_offset: [0, 0, 0], chunk_sizes: [[64, 64, 64]], encoding: 'raw' }] };
    await writeFile(join(huge, 'info'), JSON.stringify(info));
    await planFails(root, [huge, join(root, 'out'), '--voxel-size', '4,4,40'], /is 9\.31e\+17 tasks; a plan makes at most 1,000,000/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('planning another source into another destination under an existing run name is refused, naming what differs', async () => {
  const root = await tempDir('ferry-volume-bad-');
  try {
    const a = await writeStack(join(root, 'A'), [32, 32, 4], 'uint8');
    const b = await writeStack(join(root, 'B'), [32, 32, 4], 'uint8');
    const ledger = join(root, 'ledger.sqlite');
    const grid = ['--voxel-size', '4,4,40', '--chunk', '16,16,2', '--task-size', '32,32,2', '--run', 'v', '--ledger', ledger];
    const first = await runFerry(['volume', 'plan', a.dir, `file://${join(root, 'X')}`, ...grid]);
    assert.equal(first.code, 0, first.stderr);
    const second = await runFerry(['volume', 'plan', b.dir, `file://${join(root, 'Y')}`, ...grid]);
    assert.equal(second.code, 2, second.stdout);
    assert.match(second.stderr, /run v was planned before with other settings: dst: ".*\/X" then, ".*\/Y" now; src: ".*\/A" then, ".*\/B" now/);
    assert.match(second.stderr, /give this plan another run name \(--run\)/);
    assert.doesNotMatch(second.stdout, /Planned 0 new job/);
    const work = await runFerry(['work', '--run', 'v', '--until-empty', '--ledger', ledger]);
    assert.equal(work.code, 0, work.stderr);
    assert.equal(await exists(join(root, 'Y')), false, 'the refused plan wrote nothing');
    assert.equal(await exists(join(root, 'X', 'info')), true, 'the first plan ran as planned');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a precomputed source whose chunks stop short of its info is said to be, before anything is planned', async () => {
  const root = await tempDir('ferry-volume-bad-');
  try {
    const stack = await writeStack(join(root, 'sections'), [32, 32, 4], 'uint8');
    await ingest(join(root, 'first.sqlite'), [stack.dir, join(root, 'src'), '--voxel-size', '4,4,40', '--chunk', '16,16,2', '--task-size', '32,32,2', '--nonzero-threshold', '0']);
    const info = JSON.parse(await readFile(join(root, 'src', 'info'), 'utf8'));
    info.scales[0].size = [32, 32, 8]; // the info promises twice the sections its chunks hold
    await writeFile(join(root, 'src', 'info'), JSON.stringify(info));
    const r = await runFerry(['volume', 'plan', join(root, 'src'), join(root, 'out'), '--voxel-size', '4,4,40', '--chunk', '16,16,2', '--task-size', '32,32,2', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /the chunks of .*src scale 4_4_40 end at 32,32,4, but its info says the volume ends at 32,32,8: the rest would be ingested as zeros/);
    const whole = await runFerry(['volume', 'plan', stack.dir, join(root, 'out2'), '--voxel-size', '4,4,40', '--dry-run']);
    assert.doesNotMatch(whole.stderr, /ingested as zero/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a registry line of another form, a section that disagrees with its line, and a ChunkFlow output that is not the scale folder: refused at plan time, named', async () => {
  requireH5py();
  const root = await tempDir('ferry-volume-bad-');
  try {
    const sections: AlignedSection[] = [
      { name: '1,1_prealigned', x: -5, y: 3, width: 30, height: 20, format: 'hdf5' },
      { name: '1,2_prealigned', x: 4, y: -2, width: 25, height: 22, format: 'hdf5-gzip' },
    ];
    const registry = await writeAlignedStack(join(root, 'aligned'), sections);
    const lines = (await readFile(registry, 'utf8')).split('\n');
    const args = [registry, join(root, 'out'), '--voxel-size', '4,4,40'];
    await writeFile(registry, [lines[0], '1,2_prealigned 4 -2 25 22', ''].join('\n'));
    await planFails(root, args, /line 2 of the registry .*registry\.txt has 5 fields, not 6 or 7 \(or 1\): "1,2_prealigned 4 -2 25 22"/);
    await writeFile(registry, [lines[0], '1,2_prealigned 0 4 -2 25 23 1', ''].join('\n'));
    await planFails(root, args, /section .*1,2_prealigned\.h5 \(registry line 2\) is 25x22 pixels, but the registry says 25x23/);
    await writeFile(join(root, 'aligned', '1,2_prealigned.h5'), 'this was an HDF5 file once');
    await writeFile(registry, lines.join('\n'));
    await planFails(root, args, /section .*1,2_prealigned\.h5 \(registry line 2\) is not an HDF5 file \(file signature not found\)/);
    await writeChunkFlowConfig(join(root, 'task.json'), {
      params: { origin: [1, 1, 1], cutoutSize: [64, 64, 2], offset: [0, 0, 0], voxelSize: [4, 4, 40] },
      registerFile: 'aligned/registry.txt',
      path: 'out/full/',
    });
    await planFails(root, ['--task', join(root, 'task.json')], /outputs\.path in .*task\.json ends in the scale folder "full", but Ferry names the full-resolution scale by its resolution: 4_4_40/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
