// The per-date neuron metadata.json the public bucket serves: for every tracing location and
// sample date, the neurons whose tracing folders are in the bucket and that NeuronBrowser
// publishes, keyed by NeuronBrowser id. Each date is built from nothing but its own folders (the
// facility's script let a flag leak from one date into the next).
import { checkSwc, formatSwcProblems } from '../../formats/swc.ts';
import type { Store } from '../../storage/store.ts';
import type { NeuronMap } from './neuronbrowser.ts';

/** The location whose metadata also carries soma, injection and SWC paths (and images/<date>/neurons.json). */
export const COMPLETE_LOCATION = 'tracing_complete';
const SWC_KINDS = ['consensus', 'dendrite'] as const;

export interface NeuronRecord {
  originalName: string;
  somaLocation?: string;
  injectionLocation?: string;
  consensus?: string;
  dendrite?: string;
}

export interface NeuronMetadata {
  title: string;
  neurons: Record<string, NeuronRecord>;
}

export interface DateMetadata {
  location: string;
  date: string;
  metadata: NeuronMetadata;
  /** Bucket keys this date's metadata is written to. */
  keys: string[];
  /** SWC files referenced by the metadata that are not one valid tree, as file:line: message. */
  swcProblems: string[];
}

export interface MetadataBuild {
  dates: DateMetadata[];
  warnings: string[];
}

export async function buildMetadata(bucket: Store, map: NeuronMap, locations: string[], onlyDates?: string[]): Promise<MetadataBuild> {
  const out: MetadataBuild = { dates: [], warnings: [] };
  for (const location of locations) {
    const tree = await tracingTree(bucket, location);
    if (tree.size === 0) out.warnings.push(`no tracings under ${bucket.url}tracings/${location}/`);
    for (const [date, neurons] of [...tree].sort(([a], [b]) => a.localeCompare(b))) {
      if (onlyDates && !onlyDates.includes(date)) continue;
      const published = map.get(date);
      if (!published) {
        out.warnings.push(`${location}/${date}: NeuronBrowser has no neurons for this date; no metadata written`);
        continue;
      }
      const built = await buildDate(bucket, location, date, neurons, published);
      if (Object.keys(built.metadata.neurons).length === 0) {
        out.warnings.push(`${location}/${date}: none of its ${neurons.size} tracing folders is a published G- neuron; no metadata written`);
        continue;
      }
      out.dates.push(built);
    }
  }
  return out;
}

async function buildDate(
  bucket: Store,
  location: string,
  date: string,
  folders: Map<string, Set<string>>,
  published: Map<string, { id: string; injectionLocation?: string }>,
): Promise<DateMetadata> {
  const metadata: NeuronMetadata = { title: `${date} MouseLight published neurons`, neurons: {} };
  const swcProblems: string[] = [];
  const rich = location === COMPLETE_LOCATION;
  for (const name of [...folders.keys()].sort()) {
    const neuron = published.get(name);
    if (!name.startsWith('G-') || !neuron) continue;
    const record: NeuronRecord = { originalName: name };
    const files = folders.get(name)!;
    const prefix = `tracings/${location}/${date}/${name}`;
    if (rich) {
      if (files.has('soma.txt')) record.somaLocation = (await bucket.readBytes(`${prefix}/soma.txt`)).toString('utf8').trim();
      if (neuron.injectionLocation) record.injectionLocation = neuron.injectionLocation;
      for (const kind of SWC_KINDS) {
        if (!files.has(`${kind}.swc`)) continue;
        const key = `${prefix}/${kind}.swc`;
        record[kind] = `../../${key}`;
        swcProblems.push(...formatSwcProblems(key, checkSwc((await bucket.readBytes(key)).toString('utf8')).problems));
      }
    }
    metadata.neurons[neuron.id] = record;
  }
  const keys = [`neurons/${location}/${date}/metadata.json`, ...(rich ? [`images/${date}/neurons.json`] : [])];
  return { location, date, metadata, keys, swcProblems };
}

/** date -> neuron folder -> file names directly in it, from one listing of tracings/<location>/. */
async function tracingTree(bucket: Store, location: string): Promise<Map<string, Map<string, Set<string>>>> {
  const prefix = `tracings/${location}/`;
  const tree = new Map<string, Map<string, Set<string>>>();
  for await (const o of bucket.list(prefix)) {
    const parts = o.key.slice(prefix.length).split('/');
    if (parts.length < 3) continue;
    const [date, name, ...rest] = parts;
    const neurons = tree.get(date) ?? new Map<string, Set<string>>();
    tree.set(date, neurons);
    const files = neurons.get(name) ?? new Set<string>();
    neurons.set(name, files);
    files.add(rest.join('/'));
  }
  return tree;
}

/** The bytes written for one date: compact JSON, as the facility's script wrote it. */
export function metadataBody(m: NeuronMetadata): Buffer {
  return Buffer.from(JSON.stringify(m));
}
