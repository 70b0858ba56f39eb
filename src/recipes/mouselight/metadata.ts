// The per-date neuron metadata.json the public bucket serves, byte for byte as hortacloud-utilities'
// update_aws_neurons.py writes it: for every tracing location and sample date, the published G-
// neurons whose tracing folders are in the bucket, keyed by NeuronBrowser id, each with its soma
// and injection location when the folder holds a non-empty soma.txt and a relative link to each
// non-empty consensus / dendrite SWC. The deliberate differences are listed in the README's
// MouseLight section; among them, each date is built from nothing but its own folders (the
// script let a flag leak from one date into the next).
import { checkSwc, formatSwcProblems } from '../../formats/swc.ts';
import { pythonJsonDumps } from '../../formats/python-json.ts';
import { FerryError } from '../../errors.ts';
import type { Store } from '../../storage/store.ts';
import type { NeuronMap, PublishedNeuron } from './neuronbrowser.ts';

/** The location whose metadata is also written to images/<date>/neurons.json. */
export const COMPLETE_LOCATION = 'tracing_complete';
const SWC_KINDS = ['consensus', 'dendrite'] as const;

// A type, not an interface, so that it is a PythonJson object.
export type NeuronRecord = {
  originalName: string;
  somaLocation?: string;
  injectionLocation?: string | null;
  consensus?: string;
  dendrite?: string;
};

export interface NeuronMetadata {
  title: string;
  neurons: Record<string, NeuronRecord>;
}

export interface DateMetadata {
  location: string;
  date: string;
  metadata: NeuronMetadata;
  /** The bytes written to every key: `metadata` as the script's json.dumps wrote it, neurons in its order. */
  body: Buffer;
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
    for (const [date, neurons] of [...tree].sort(([a], [b]) => byListingOrder(a, b))) {
      if (onlyDates && !onlyDates.includes(date)) continue;
      const published = map.get(date);
      if (!published) {
        out.warnings.push(`${location}/${date}: NeuronBrowser has no neurons for this date; no metadata written`);
        continue;
      }
      const built = await buildDate(bucket, location, date, neurons, published);
      if (Object.keys(built.metadata.neurons).length === 0) {
        const why = neurons.size === 0 ? 'it holds no neuron folders' : `none of its ${neurons.size} tracing folders is a published G- neuron`;
        out.warnings.push(`${location}/${date}: ${why}; no metadata written`);
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
  folders: Map<string, FolderFiles>,
  published: Map<string, PublishedNeuron>,
): Promise<DateMetadata> {
  const title = `${date} MouseLight published neurons`;
  // Keyed by id in the order the script met the folders: a Map keeps it even for an id like "7".
  const neurons = new Map<string, NeuronRecord>();
  const swcProblems: string[] = [];
  for (const name of [...folders.keys()].sort(byListingOrder)) {
    const neuron = published.get(name);
    if (!neuron || !name.startsWith('G-')) continue;
    const record: NeuronRecord = { originalName: name };
    const files = folders.get(name)!;
    const prefix = `tracings/${location}/${date}/${name}`;
    // The script tests what it read for truth, so an empty soma.txt or SWC counts as absent.
    if (files.get('soma.txt')) {
      record.somaLocation = utf8(await bucket.readBytes(`${prefix}/soma.txt`), `${bucket.url}${prefix}/soma.txt`);
      record.injectionLocation = neuron.injectionLocation;
    }
    for (const kind of SWC_KINDS) {
      if (!files.get(`${kind}.swc`)) continue;
      const key = `${prefix}/${kind}.swc`;
      record[kind] = `../../${key}`;
      swcProblems.push(...formatSwcProblems(key, checkSwc((await bucket.readBytes(key)).toString('utf8')).problems));
    }
    neurons.set(neuron.id, record);
  }
  const body = Buffer.from(pythonJsonDumps(new Map<string, string | Map<string, NeuronRecord>>([['title', title], ['neurons', neurons]])));
  const keys = [`neurons/${location}/${date}/metadata.json`, ...(location === COMPLETE_LOCATION ? [`images/${date}/neurons.json`] : [])];
  return { location, date, metadata: { title, neurons: Object.fromEntries(neurons) }, body, keys, swcProblems };
}

/** File name directly in a neuron folder (or a deeper path) -> size. */
type FolderFiles = Map<string, number>;

/** date -> neuron folder -> its files, from one listing of tracings/<location>/. */
async function tracingTree(bucket: Store, location: string): Promise<Map<string, Map<string, FolderFiles>>> {
  const prefix = `tracings/${location}/`;
  const tree = new Map<string, Map<string, FolderFiles>>();
  for await (const o of bucket.list(prefix)) {
    const [date, name, ...rest] = o.key.slice(prefix.length).split('/');
    if (name === undefined) continue;
    const neurons = tree.get(date) ?? new Map<string, FolderFiles>();
    tree.set(date, neurons);
    // A file directly in the date folder still makes the date one the script would visit.
    if (rest.length === 0) continue;
    const files = neurons.get(name) ?? new Map<string, number>();
    neurons.set(name, files);
    files.set(rest.join('/'), o.size);
  }
  return tree;
}

/** The order S3 lists folders in (UTF-8 bytes of "<name>/"): the order the script visited dates and wrote neurons in. */
function byListingOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(`${a}/`), Buffer.from(`${b}/`));
}

/** The text of a file, as the script's strict UTF-8 decode reads it (a byte-order mark is kept). */
function utf8(bytes: Buffer, url: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new FerryError(`${url} is not UTF-8 text, and metadata.json copies it as text`, {
      hint: 'save it as UTF-8, then run again',
      exitCode: 1,
    });
  }
}
