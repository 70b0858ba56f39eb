// Row R5's generated bad inputs, one family per process (run by r5-bad-inputs.ts, which watches for
// a crash, a hang or memory running out): `node bad-input-families.ts FAMILY COUNT SEED SANDBOX`.
// Each input goes through the code path a command would take with it; the outcome must be a result
// or a FerryError, never anything else. Prints one JSON line as each case starts and ends.
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { isFerryError } from '../../src/errors.ts';
import { parseDatHeader } from '../../src/formats/fibsem/header.ts';
import { convertDatToInLensPng } from '../../src/formats/fibsem/convert.ts';
import { buildInfo, parseInfoBytes, serializeInfo } from '../../src/formats/precomputed/info.ts';
import { catalog } from '../../src/recipes/index.ts';
import { parseTab } from '../../src/recipes/fibsem/tab.ts';
import { parseLayout } from '../../src/recipes/mouselight/layout.ts';
import { planUpload } from '../../src/recipes/mouselight/plan.ts';
import { sampleLayout, writeSampleFacility } from '../../src/testing/mouselight-facility.ts';
import { planVolume } from '../../src/recipes/volume/plan.ts';
import { registerCatalogKinds } from '../../src/runtime/orchestrator.ts';
import { handlerFor, registeredKinds } from '../../src/runtime/registry.ts';
import { childFolder } from '../../src/storage/keys.ts';
import { openMemoryStore } from '../../src/storage/memory.ts';
import { parseStoreUrl } from '../../src/storage/spec.ts';
import { seededRandom } from '../../src/testing/random.ts';

const [family, countText, seedText, sandbox] = process.argv.slice(2);
const rnd = seededRandom(Number(seedText));
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];

/** Values people and broken tools put where they should not. */
const WEIRD: unknown[] = [
  '', ' ', '..', '../../../escaped', '/', '/etc/passwd', '%zz', '%2e%2e/x', 'a\0b', '{nope}', 'x'.repeat(5000), 'ü/日本', '\n',
  0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.5, NaN, null, true, [], [1, 2], [-1, -1, -1], [1e12, 1e12, 1e12], {}, { a: 1 },
];

/** One case's outcome: a result or a FerryError pass; anything else is an internal error. */
type Outcome = { outcome: 'ok' | 'refused' | 'internal' | 'outside'; message?: string };

async function attempt(fn: () => Promise<void | string> | void | string): Promise<Outcome> {
  try {
    const outside = await fn();
    return outside ? { outcome: 'outside', message: outside } : { outcome: 'ok' };
  } catch (e) {
    if (isFerryError(e)) return { outcome: 'refused' };
    return { outcome: 'internal', message: String((e as Error)?.stack ?? e).split('\n').slice(0, 3).join(' | ') };
  }
}

/** A copy of `v` with one value somewhere inside replaced, removed or made weird. */
function mutate(v: unknown, depth = 0): unknown {
  if (Array.isArray(v) && v.length && rnd() < 0.8) {
    const copy = [...v];
    const i = int(copy.length);
    if (rnd() < 0.15) copy.splice(i, 1);
    else copy[i] = mutate(copy[i], depth + 1);
    return copy;
  }
  if (v && typeof v === 'object' && !Array.isArray(v) && rnd() < 0.85) {
    const copy: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const k = keys.length && rnd() < 0.9 ? pick(keys) : pick(['extra', '..', '__proto__', 'constructor']);
    if (rnd() < 0.15) delete copy[k];
    else copy[k] = mutate(copy[k], depth + 1);
    return copy;
  }
  if (typeof v === 'string' && rnd() < 0.5) return pick(['../', '/..', '%', '{', '}', '\0', '/']) + v + pick(['', '/..', '..', '{date}', '{x}']);
  if (typeof v === 'number' && rnd() < 0.5) return pick([v * 1e9, -v, v + 0.5, 0, 2 ** 31, 2 ** 63]);
  return pick(WEIRD);
}

/** Text-level damage: a YAML or JSON file cut short, with a line lost or garbage inserted. */
function damageText(t: string): string {
  const lines = t.split('\n');
  switch (int(4)) {
    case 0:
      return t.slice(0, int(t.length));
    case 1:
      lines.splice(int(lines.length), 1);
      return lines.join('\n');
    case 2:
      lines.splice(int(lines.length), 0, pick(['  - [', ': :', '\t\tx: 1', '&a *a', '!!python/object:x {}', '<<: *nope', 'bucket: s3://../x']));
      return lines.join('\n');
    default:
      return t.replace(/\S/, pick(['"', "'", '[', '{', '|']));
  }
}

const families: Record<string, () => Promise<(i: number) => Promise<Outcome>>> = {
  // Mutated headers of the real version-9 .dat from the field, through dat info and dat to-png.
  async dat() {
    const real = readFileSync('/work/shared/fixtures/fibsem/small_21-07-31_152727_0-0-1.dat');
    const out = openMemoryStore('r5-dat-out/');
    return (i) => {
      const bytes = Buffer.from(real);
      const n = 1 + int(8);
      for (let k = 0; k < n; k++) {
        const at = int(1024);
        if (rnd() < 0.5) bytes[at] = int(256);
        else bytes.writeUInt32BE(pick([0, 0xffffffff, 0x7fffffff, int(2 ** 32)]), Math.min(at, 1020));
      }
      const body = rnd() < 0.2 ? bytes.subarray(0, int(bytes.length)) : bytes;
      return attempt(async () => {
        parseDatHeader(body.subarray(0, 1024), 'fuzzed.dat');
        if (i % 10 !== 0) return;
        const src = openMemoryStore(`r5-dat-src/${i}/`);
        await src.write('t.dat', body);
        await convertDatToInLensPng({ store: src, key: 't.dat', name: 't.dat' }, { store: out, name: 'out' }, { store: out, name: 'out' });
      });
    };
  },

  // A precomputed info mutated, parsed as the reader does; every tenth planned as a volume source.
  async info() {
    const base = buildInfo({ type: 'image', dataType: 'uint8', resolution: [4, 4, 40], size: [64, 64, 8], chunkSize: [32, 32, 4], encoding: 'raw' });
    return (i) => {
      const text = rnd() < 0.2 ? damageText(serializeInfo(base).toString()) : JSON.stringify(mutate(JSON.parse(serializeInfo(base).toString())));
      return attempt(async () => {
        parseInfoBytes(Buffer.from(text), 'fuzzed info');
        if (i % 10 !== 0) return;
        const src = openMemoryStore(`r5-info-src/${i}/`);
        await src.write('info', Buffer.from(text));
        await planVolume({ src: `memory://r5-info-src/${i}/`, dst: `memory://r5-info-dst/${i}/`, voxelSize: [4, 4, 40], chunk: [32, 32, 4], taskSize: [64, 64, 8], nonzeroThreshold: 0, encoding: 'raw', scales: 1 + int(3), factor: [2, 2, 1], sharded: rnd() < 0.5 });
        for await (const o of openMemoryStore(`r5-info-dst/${i}/`).list()) return `planning wrote ${o.key} to the destination`;
      });
    };
  },

  // A tab description, mutated as data and as text, through the schema check.
  async tab() {
    const base = { tab: 'Z0720-07m_VNC_Sec26', scope: { host: 'jeiss8', datRoot: '/cygdrive/e/Images' }, folders: { transferredDat: '/t/dat', archiveDat: '/a/dat', inLensPng: '/t/InLens', logs: '/t/logs' }, expected: { firstDat: 'a.dat', lastDat: 'b.dat', count: 3 } };
    return () => {
      const text = rnd() < 0.3 ? damageText(YAML.stringify(base)) : YAML.stringify(mutate(base));
      return attempt(() => void parseTab(text, 'fuzzed.yaml'));
    };
  },

  // A MouseLight layout, mutated, through the schema and, when taken, the upload plan: every
  // operation must go below the bucket.
  async layout() {
    const root = join(sandbox, 'facility');
    await mkdir(root, { recursive: true });
    await writeSampleFacility(root, ['2023-05-10']);
    const bucket = 'file:///r5-bucket';
    const base = YAML.parse(sampleLayout(root, bucket));
    return () => {
      const text = rnd() < 0.3 ? damageText(sampleLayout(root, bucket)) : YAML.stringify(mutate(base));
      return attempt(async () => {
        const layout = parseLayout(text, 'fuzzed.yaml');
        const products = ['images', ...Object.keys(layout.products)].filter(() => rnd() < 0.6);
        const plan = await planUpload(layout, { date: '2023-05-10', products: products.length ? products : ['images'], subfolders: ['stitching-output'] });
        const bad = plan.ops.find((o) => !o.dst.startsWith(`${layout.bucket.replace(/\/*$/, '/')}`) || o.dst.split('/').includes('..'));
        return bad && `${bad.key} would go to ${bad.dst}, outside ${layout.bucket}`;
      });
    };
  },

  // Job parameters as a ledger row may hold them (edited, from an older Ferry, or plain junk),
  // through the validation every handler does before it runs.
  async params() {
    await registerCatalogKinds(catalog);
    const kinds = registeredKinds();
    const bases: Record<string, unknown> = { 'transfer.sync': { src: '/srv/a', dst: '/srv/b', transfers: 4, files: ['x'], store: { partSize: 1 } } };
    return () => {
      const kind = pick(kinds);
      const params = bases[kind] && rnd() < 0.7 ? mutate(bases[kind]) : mutate({ a: pick(WEIRD), src: pick(WEIRD), dst: pick(WEIRD), info: pick(WEIRD), task: pick(WEIRD) });
      return attempt(async () => {
        const h = await handlerFor(kind);
        h?.validate?.(params);
      });
    };
  },

  // Store URLs and the keys recipes join below them.
  async urls() {
    const schemes = ['', 'file://', 's3://', 'gs://', 'memory://', 'S3://', 'http://', 'file://localhost/', 's3:/', 'ftp://'];
    const parts = ['bucket', 'b', 'a.b', 'UPPER', '..', '.', '%zz', '%2e%2e', '%25', 'a b', '#', '?q', 'ü', '\0', '', 'x'.repeat(300)];
    return () => {
      const url = pick(schemes) + Array.from({ length: 1 + int(5) }, () => pick(parts)).join('/');
      const rel = Array.from({ length: int(6) }, () => pick(parts)).join(pick(['/', '//', '/./']));
      return attempt(() => {
        const parsed = parseStoreUrl(url);
        if ((parsed.scheme === 's3' || parsed.scheme === 'gs') && parsed.path.split('/').includes('..')) return `${url} kept a ".." in its key prefix`;
        const folder = childFolder(url, rel, 'the key');
        // The root as childFolder writes it (a local path normalised): the folder must be below it.
        const root = childFolder(url, 'r5probe', 'the root').slice(0, -'r5probe/'.length);
        if (!folder.startsWith(root) || folder.slice(root.length).split('/').includes('..')) return `${JSON.stringify(rel)} under ${JSON.stringify(url)} gave ${JSON.stringify(folder)}`;
      });
    };
  },
};

const make = families[family];
if (!make) throw new Error(`no family ${family}; families: ${Object.keys(families).join(', ')}`);
const run = await make();
for (let i = 0; i < Number(countText); i++) {
  process.stdout.write(`${JSON.stringify({ i, start: true })}\n`);
  process.stdout.write(`${JSON.stringify({ i, ...(await run(i)) })}\n`);
}
