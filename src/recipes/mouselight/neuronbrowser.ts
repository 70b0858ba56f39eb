// Which neurons belong to which sample date, from NeuronBrowser's GraphQL API (or a saved answer to
// the same query): for every injection its sample's date, its neurons (tag -> published id) and
// its brain area, which becomes the neurons' injectionLocation.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { FerryError } from '../../errors.ts';

/** The query update_aws_neurons.py sends. */
export const INJECTIONS_QUERY = '{injections {sample {sampleDate} neurons {idString tag} brainArea {name}}}';

const Answer = z.object({
  data: z
    .object({
      injections: z.array(
        z.object({
          sample: z.object({ sampleDate: z.union([z.number(), z.string()]) }).nullable(),
          neurons: z.array(z.object({ idString: z.string().min(1), tag: z.string().min(1) })).nullable(),
          brainArea: z.object({ name: z.string().nullable() }).nullable().optional(),
        }),
      ),
    })
    .nullable()
    .optional(),
  errors: z.array(z.object({ message: z.string() }).loose()).optional(),
});

export interface PublishedNeuron {
  /** NeuronBrowser's id, e.g. AA0230: the key in metadata.json. */
  id: string;
  /** The name of the brain area of the neuron's own injection; null when NeuronBrowser has none. */
  injectionLocation: string | null;
}

/** Sample date -> neuron tag (the tracing folder name, e.g. G-001) -> what NeuronBrowser publishes. */
export type NeuronMap = Map<string, Map<string, PublishedNeuron>>;

export async function fetchAnswer(url: string, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: INJECTIONS_QUERY }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const reason = (e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000}s` : networkReason(e);
    throw new FerryError(`cannot reach NeuronBrowser at ${url} (${reason})`, {
      hint: 'check neurons.graphql in the layout and the network, or pass a saved answer with --answer FILE',
      exitCode: 1,
    });
  }
  const body = await res.text().catch(() => '');
  if (!res.ok) {
    throw new FerryError(`NeuronBrowser at ${url} answered HTTP ${res.status}: ${body.slice(0, 200).trim()}`, {
      hint: 'check neurons.graphql in the layout (it must be the GraphQL endpoint), or pass a saved answer with --answer FILE',
      exitCode: 1,
    });
  }
  try {
    return JSON.parse(body);
  } catch {
    throw new FerryError(`NeuronBrowser at ${url} did not answer JSON: ${body.slice(0, 200).trim()}`, {
      hint: 'check neurons.graphql in the layout: it must be the GraphQL endpoint',
      exitCode: 1,
    });
  }
}

export async function readSavedAnswer(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new FerryError(`cannot read the saved NeuronBrowser answer ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FerryError(`${file} is not JSON: ${(e as Error).message}`, { hint: `save the whole answer to ${INJECTIONS_QUERY}` });
  }
}

export function neuronMap(answer: unknown, source: string, timeZone: string): NeuronMap {
  const r = Answer.safeParse(answer);
  if (!r.success) {
    const first = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
    throw new FerryError(`the NeuronBrowser answer from ${source} does not have the expected shape (${first})`, {
      hint: `it must be the answer to ${INJECTIONS_QUERY}`,
    });
  }
  if (r.data.errors?.length) {
    throw new FerryError(`NeuronBrowser (${source}) answered with GraphQL errors: ${r.data.errors.map((e) => e.message).join('; ')}`, {
      hint: 'the query may not match this NeuronBrowser version; nothing was written',
      exitCode: 1,
    });
  }
  if (!r.data.data) throw new FerryError(`the NeuronBrowser answer from ${source} has no data`, { exitCode: 1 });
  const day = sampleDay(timeZone);
  const map: NeuronMap = new Map();
  // As update_aws_neurons.py keeps it: one brain area per date, that of the date's last injection
  // in the answer, given to every neuron of the date (a sample with two injections gets the second
  // one's area for all its neurons; reproduced so that the published files do not change).
  const areaOfDate = new Map<string, string | null>();
  for (const inj of r.data.data.injections) {
    if (!inj.sample || !inj.neurons?.length) continue;
    const ms = typeof inj.sample.sampleDate === 'number' ? inj.sample.sampleDate : Number(inj.sample.sampleDate) || Date.parse(inj.sample.sampleDate);
    if (!Number.isFinite(ms)) throw new FerryError(`the NeuronBrowser answer from ${source} has a sampleDate that is not a time: ${inj.sample.sampleDate}`);
    const date = day(ms);
    const neurons = map.get(date) ?? new Map<string, PublishedNeuron>();
    map.set(date, neurons);
    areaOfDate.set(date, inj.brainArea?.name ?? null);
    for (const n of inj.neurons) neurons.set(n.tag, { id: n.idString, injectionLocation: null });
  }
  for (const [date, neurons] of map) for (const n of neurons.values()) n.injectionLocation = areaOfDate.get(date) ?? null;
  return map;
}

/** Epoch milliseconds -> YYYY-MM-DD of that instant in `timeZone` (the script used its machine's zone). */
function sampleDay(timeZone: string): (ms: number) => string {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return (ms) => {
    const part = Object.fromEntries(format.formatToParts(ms).map((p) => [p.type, p.value]));
    return `${part.year}-${part.month}-${part.day}`;
  };
}

function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}
