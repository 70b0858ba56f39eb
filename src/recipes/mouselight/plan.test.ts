import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLayout, parseLayout } from './layout.ts';
import { planUpload } from './plan.ts';
import { sampleLayout, writeSampleFacility } from '../../testing/mouselight-facility.ts';

let root: string;
const layout = () => parseLayout(sampleLayout(root, 's3://bucket/prefix'), 'layout.yaml');

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ferry-ml-plan-'));
  await writeSampleFacility(root, ['2023-05-10', '2019-01-23']);
});

after(() => rm(root, { recursive: true, force: true }));

test('the first image folder that holds the sample wins', async () => {
  await cp(join(root, 'nrs/mouselight/SAMPLES/2023-05-10'), join(root, 'nearline/mouselight/data/RENDER_archive/2023-05-10'), { recursive: true });
  const plan = await planUpload(layout(), { date: '2023-05-10', products: ['images'] });
  assert.deepEqual(plan.ops, [
    { product: 'images', key: 'images/ktx', src: join(root, 'nrs/mouselight/SAMPLES/2023-05-10/ktx'), dst: 's3://bucket/prefix/images/2023-05-10/ktx/', cluster: false },
    {
      product: 'images', key: 'images/files', src: join(root, 'nrs/mouselight/SAMPLES/2023-05-10'), dst: 's3://bucket/prefix/images/2023-05-10/',
      files: ['default.0.tif', 'default.1.tif', 'tilebase.cache.yml', 'transform.txt'], cluster: false,
    },
  ]);
  assert.deepEqual(plan.warnings, []);
});

test('an absent single image file or one absent source of a product is a warning, the rest is planned', async () => {
  await unlink(join(root, 'nearline/mouselight/data/RENDER_archive/2019-01-23/default.1.tif'));
  await rm(join(root, 'groups/shared_tracing/Finished_Neurons/2019-01-23'), { recursive: true });
  const plan = await planUpload(layout(), { date: '2019-01-23', products: ['tracings', 'images'] });
  assert.deepEqual(plan.ops.map((o) => [o.key, o.files ?? 'all', o.cluster]), [
    ['images/ktx', 'all', false],
    ['images/files', ['default.0.tif', 'tilebase.cache.yml', 'transform.txt'], false],
    ['tracings/tracing_complete', 'all', true],
  ]);
  assert.equal(plan.warnings.length, 2);
  assert.match(plan.warnings[0], /RENDER_archive\/2019-01-23\/default\.1\.tif does not exist; not uploaded/);
  assert.match(plan.warnings[1], /Finished_Neurons\/2019-01-23 does not exist; that part of tracings is not uploaded/);
});

test('a sub-folder outside the sample is refused', async () => {
  await assert.rejects(planUpload(layout(), { date: '2023-05-10', products: ['segmentation'], subfolders: ['../2019-01-23/stitching-output'] }), /is not a sub-folder name/);
});

test('the example layout of the seed is valid', async () => {
  const l = await loadLayout(new URL('../../../examples/mouselight.yaml', import.meta.url).pathname);
  assert.equal(l.bucket, 's3://janelia-mouselight-imagery');
  assert.deepEqual(Object.keys(l.products), ['registration', 'segmentation', 'tracings', 'carveouts']);
  assert.equal(l.neurons.timeZone, 'America/New_York');
});

test('a layout whose destination climbs out of the bucket is refused, naming the field', () => {
  const text = sampleLayout(root, 'file:///srv/bucket').replace('destination: registration/{date}/', 'destination: registration/../../../etc/{date}/');
  assert.throws(() => parseLayout(text, 'layout.yaml'), /layout\.yaml: products\.registration\.0\.destination: must not have "\.\." segments/);
  const images = sampleLayout(root, 's3://bucket/prefix').replace('destination: images/{date}/', 'destination: ../other/{date}/');
  assert.throws(() => parseLayout(images, 'layout.yaml'), /images\.destination: must not have "\.\." segments/);
});
