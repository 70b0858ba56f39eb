// A small MouseLight facility on disk for tests: every product of some sample dates in the folders
// the real layout names (under one root), and the layout YAML that points at them. The first date
// lives in the live samples folder, the others in the archive, so the base preference is exercised.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { content } from './tree.ts';

export const GOOD_SWC = '# consensus tracing\n1 1 10.0 20.0 30.0 1.0 -1\n2 3 11.0 21.0 31.0 0.5 1\n3 3 12.0 22.0 32.0 0.5 2\n4 2 9.0 19.0 29.0 0.4 1\n';

/** Relative path (under the facility root) -> bytes. */
export function sampleFiles(dates: string[]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const put = (p: string, body: Buffer | string) => files.set(p, typeof body === 'string' ? Buffer.from(body) : body);
  dates.forEach((d, i) => {
    const base = i === 0 ? `nrs/mouselight/SAMPLES/${d}` : `nearline/mouselight/data/RENDER_archive/${d}`;
    put(`${base}/ktx/block_8_xy_.ktx`, content(`${d}/ktx/root`, 3000));
    for (const t of ['1', '2', '1/3', '2/8']) put(`${base}/ktx/${t}/block_8_xy_.ktx`, content(`${d}/ktx/${t}`, 1500 + t.length));
    put(`${base}/default.0.tif`, content(`${d}/d0`, 5000));
    put(`${base}/default.1.tif`, content(`${d}/d1`, 5001));
    put(`${base}/tilebase.cache.yml`, `path: ${d}\n`);
    put(`${base}/transform.txt`, 'ox: 0\noy: 0\noz: 0\n');
    put(`${base}/render.log`, 'not uploaded\n');
    put(`groups/registration/Database/${d}/transform.h5`, content(`${d}/reg`, 2000));
    put(`groups/registration/Database/${d}/sub/points.csv`, '1,2,3\n');
    put(`groups/cluster/Reconstructions/${d}/stitching-output/seg-1.h5`, content(`${d}/seg`, 2500));
    put(`groups/cluster/Reconstructions/${d}/other-output/seg-9.h5`, content(`${d}/seg9`, 100));
    put(`groups/shared_tracing/Finished_Neurons/${d}/G-001/consensus.swc`, GOOD_SWC);
    put(`groups/tracing_complete/${d}/G-001/consensus.swc`, GOOD_SWC);
    put(`groups/tracing_complete/${d}/G-001/dendrite.swc`, GOOD_SWC);
    put(`groups/tracing_complete/${d}/G-001/soma.txt`, 'Secondary motor area, layer 5\n');
    put(`groups/tracing_complete/${d}/G-002/consensus.swc`, GOOD_SWC);
    put(`funke/mouselight/${d}/carve-a.zarr/0.0`, content(`${d}/c1`, 800));
    put(`funke/mouselight-v2/${d}/carve-b.zarr/0.0`, content(`${d}/c2`, 900));
  });
  return files;
}

export async function writeSampleFacility(root: string, dates: string[]): Promise<Map<string, Buffer>> {
  const files = sampleFiles(dates);
  for (const [rel, body] of files) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), body);
  }
  return files;
}

/** The example layout with every folder moved under `root`. */
export function sampleLayout(root: string, bucket: string, extra = ''): string {
  return `bucket: ${bucket}
images:
  bases:
    - ${root}/nrs/mouselight/SAMPLES/{date}
    - ${root}/nearline/mouselight/data/RENDER_archive/{date}
  destination: images/{date}/
products:
  registration:
    - source: ${root}/groups/registration/Database/{date}/
      destination: registration/{date}/
  segmentation:
    - source: ${root}/groups/cluster/Reconstructions/{date}/{subfolder}/
      destination: segmentation/{date}/
  tracings:
    - name: Finished_Neurons
      source: ${root}/groups/shared_tracing/Finished_Neurons/{date}/
      destination: tracings/Finished_Neurons/{date}/
    - name: tracing_complete
      source: ${root}/groups/tracing_complete/{date}/
      destination: tracings/tracing_complete/{date}/
  carveouts:
    - name: mouselight
      source: ${root}/funke/mouselight/{date}/
      destination: carveouts/{date}/
    - name: mouselight-v2
      source: ${root}/funke/mouselight-v2/{date}/
      destination: carveouts/{date}/
cluster:
  products: [registration, segmentation, tracings, carveouts]
  project: mouselight
${extra}`;
}

/** Bucket key -> bytes that uploading every product of `dates` (segmentation: stitching-output) must leave. */
export function expectedObjects(files: Map<string, Buffer>, dates: string[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const rules: [RegExp, (m: RegExpMatchArray) => string][] = [
    [/^(?:nrs\/mouselight\/SAMPLES|nearline\/mouselight\/data\/RENDER_archive)\/([^/]+)\/(ktx\/.+)$/, (m) => `images/${m[1]}/${m[2]}`],
    [/^(?:nrs\/mouselight\/SAMPLES|nearline\/mouselight\/data\/RENDER_archive)\/([^/]+)\/(default\.[01]\.tif|tilebase\.cache\.yml|transform\.txt)$/, (m) => `images/${m[1]}/${m[2]}`],
    [/^groups\/registration\/Database\/([^/]+)\/(.+)$/, (m) => `registration/${m[1]}/${m[2]}`],
    [/^groups\/cluster\/Reconstructions\/([^/]+)\/stitching-output\/(.+)$/, (m) => `segmentation/${m[1]}/${m[2]}`],
    [/^groups\/shared_tracing\/Finished_Neurons\/([^/]+)\/(.+)$/, (m) => `tracings/Finished_Neurons/${m[1]}/${m[2]}`],
    [/^groups\/tracing_complete\/([^/]+)\/(.+)$/, (m) => `tracings/tracing_complete/${m[1]}/${m[2]}`],
    [/^funke\/mouselight(?:-v2)?\/([^/]+)\/(.+)$/, (m) => `carveouts/${m[1]}/${m[2]}`],
  ];
  for (const [rel, body] of files) {
    for (const [re, key] of rules) {
      const m = rel.match(re);
      if (m && dates.includes(m[1])) out.set(key(m), body);
    }
  }
  return out;
}
