// ferry mouselight neurons: per-date metadata.json from a NeuronBrowser answer served by a small
// local GraphQL endpoint (NeuronBrowser itself cannot run here) and the tracings in a bucket folder.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { INJECTIONS_QUERY } from '../../recipes/mouselight/neuronbrowser.ts';
import { GOOD_SWC, sampleLayout } from '../../recipes/mouselight/sample-tree.ts';
import { jsonLines, runFerry } from '../../testing/cli.ts';

// Midnight in Virginia, as NeuronBrowser stores sample dates (epoch milliseconds).
const JUNE_24_2014 = Date.parse('2014-06-24T04:00:00Z');
const JAN_1_2015 = Date.parse('2015-01-01T05:00:00Z');
const MAY_10_2023 = Date.parse('2023-05-10T04:00:00Z');

const ANSWER = {
  data: {
    injections: [
      { sample: { sampleDate: JUNE_24_2014 }, neurons: [{ idString: 'AA0230', tag: 'G-001' }, { idString: 'AA0231', tag: 'G-002' }], brainArea: { name: 'Somatomotor areas' } },
      { sample: null, neurons: [{ idString: 'AA9999', tag: 'G-001' }], brainArea: null },
      { sample: { sampleDate: JUNE_24_2014 }, neurons: [], brainArea: { name: 'Thalamus' } },
      { sample: { sampleDate: JAN_1_2015 }, neurons: [{ idString: 'AA0500', tag: 'G-500' }], brainArea: { name: 'Thalamus' } },
      { sample: { sampleDate: MAY_10_2023 }, neurons: [{ idString: 'AA1001', tag: 'G-001' }, { idString: 'AA1002', tag: 'G-002' }], brainArea: { name: 'Primary visual area' } },
    ],
  },
};

const COMPLETE_2014 = {
  title: '2014-06-24 MouseLight published neurons',
  neurons: {
    AA0230: {
      originalName: 'G-001',
      somaLocation: 'Secondary motor area, layer 5',
      injectionLocation: 'Somatomotor areas',
      consensus: '../../tracings/tracing_complete/2014-06-24/G-001/consensus.swc',
      dendrite: '../../tracings/tracing_complete/2014-06-24/G-001/dendrite.swc',
    },
    AA0231: {
      originalName: 'G-002',
      somaLocation: 'Secondary motor area, layer 6a',
      injectionLocation: 'Somatomotor areas',
      consensus: '../../tracings/tracing_complete/2014-06-24/G-002/consensus.swc',
      dendrite: '../../tracings/tracing_complete/2014-06-24/G-002/dendrite.swc',
    },
  },
};
const COMPLETE_2023 = {
  title: '2023-05-10 MouseLight published neurons',
  neurons: {
    AA1001: { originalName: 'G-001', injectionLocation: 'Primary visual area', consensus: '../../tracings/tracing_complete/2023-05-10/G-001/consensus.swc' },
  },
};

const EXPECTED: Record<string, unknown> = {
  'neurons/Finished_Neurons/2014-06-24/metadata.json': {
    title: '2014-06-24 MouseLight published neurons',
    neurons: { AA0230: { originalName: 'G-001' }, AA0231: { originalName: 'G-002' } },
  },
  'neurons/tracing_complete/2014-06-24/metadata.json': COMPLETE_2014,
  'images/2014-06-24/neurons.json': COMPLETE_2014,
  'neurons/tracing_complete/2023-05-10/metadata.json': COMPLETE_2023,
  'images/2023-05-10/neurons.json': COMPLETE_2023,
};

const TRACINGS: Record<string, string> = {
  'tracings/Finished_Neurons/2014-06-24/G-001/consensus.swc': GOOD_SWC,
  'tracings/Finished_Neurons/2014-06-24/G-002/consensus.swc': GOOD_SWC,
  // Not a G- neuron, and a G- neuron NeuronBrowser does not publish: both left out.
  'tracings/Finished_Neurons/2014-06-24/X-003/consensus.swc': GOOD_SWC,
  'tracings/Finished_Neurons/2014-06-24/G-009/consensus.swc': GOOD_SWC,
  // Published date, but none of its folders is a published neuron: no metadata at all.
  'tracings/Finished_Neurons/2015-01-01/X-001/consensus.swc': GOOD_SWC,
  'tracings/tracing_complete/2014-06-24/G-001/consensus.swc': GOOD_SWC,
  'tracings/tracing_complete/2014-06-24/G-001/dendrite.swc': GOOD_SWC,
  'tracings/tracing_complete/2014-06-24/G-001/soma.txt': 'Secondary motor area, layer 5\n',
  'tracings/tracing_complete/2014-06-24/G-002/consensus.swc': GOOD_SWC,
  'tracings/tracing_complete/2014-06-24/G-002/dendrite.swc': GOOD_SWC,
  'tracings/tracing_complete/2014-06-24/G-002/soma.txt': 'Secondary motor area, layer 6a',
  // A date NeuronBrowser knows nothing about: a warning, no metadata.
  'tracings/tracing_complete/2019-01-23/G-001/consensus.swc': GOOD_SWC,
  'tracings/tracing_complete/2023-05-10/G-001/consensus.swc': GOOD_SWC,
};

let dir: string;
let bucket: string;
let server: http.Server;
let endpoint: string;
let answer: (res: http.ServerResponse) => void;
const queries: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-ml-neurons-'));
  bucket = join(dir, 'bucket');
  for (const [key, text] of Object.entries(TRACINGS)) {
    await mkdir(dirname(join(bucket, key)), { recursive: true });
    await writeFile(join(bucket, key), text);
  }
  await writeFile(join(dir, 'answer.json'), JSON.stringify(ANSWER));
  server = http.createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    queries.push(req.method === 'POST' ? JSON.parse(body).query : `${req.method} without a body`);
    answer(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  await writeLayout(endpoint);
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const writeLayout = (url: string) =>
  writeFile(join(dir, 'layout.yaml'), sampleLayout(join(dir, 'facility'), `file://${bucket}`, `neurons:\n  graphql: ${url}\n  timeZone: America/New_York\n  timeoutSeconds: 5\n`));
const neurons = (...args: string[]) => runFerry(['mouselight', 'neurons', '--config', 'layout.yaml', ...args], { cwd: dir, env: { FERRY_WORKDIR: join(dir, '.ferry') } });
const json = (status: number, body: unknown) => (res: http.ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const written = () => Object.keys(EXPECTED).filter((k) => existsSync(join(bucket, k)));

test('without --write, the metadata of every date is printed from the GraphQL endpoint and nothing is written', async () => {
  answer = json(200, ANSWER);
  queries.length = 0;
  const r = await neurons('--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(queries, [INJECTIONS_QUERY]);
  const events = jsonLines(r.stdout).filter((l) => l.type === 'metadata');
  const printed = Object.fromEntries(events.flatMap((e) => e.keys.map((k: string) => [k, e.metadata])));
  assert.deepEqual(printed, EXPECTED);
  assert.ok(events.every((e) => e.written === false));
  assert.match(r.stderr, /tracing_complete\/2019-01-23: NeuronBrowser has no neurons for this date/);
  assert.match(r.stderr, /Finished_Neurons\/2015-01-01: none of its 1 tracing folders is a published G- neuron/);
  assert.deepEqual(written(), []);

  const human = await neurons();
  assert.equal(human.code, 0, human.stderr);
  assert.ok(human.stdout.includes(`would write file://${bucket}/neurons/Finished_Neurons/2014-06-24/metadata.json:\n  ${JSON.stringify(EXPECTED['neurons/Finished_Neurons/2014-06-24/metadata.json'])}\n`), human.stdout);
  assert.deepEqual(written(), []);
});

test('--write with a saved answer puts exactly the expected JSON in the bucket', async () => {
  answer = json(500, { error: 'must not be asked' });
  const r = await neurons('--answer', 'answer.json', '--write');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /3 date\(s\) built, 5 file\(s\) written and verified/);
  for (const [key, expected] of Object.entries(EXPECTED)) {
    assert.deepEqual(JSON.parse(await readFile(join(bucket, key), 'utf8')), expected, key);
  }
  assert.ok(!existsSync(join(bucket, 'neurons/Finished_Neurons/2015-01-01')), 'a date without published neurons gets no metadata');
  await rm(join(bucket, 'neurons'), { recursive: true });
  await rm(join(bucket, 'images'), { recursive: true });
});

test('GraphQL unreachable, failing or answering errors: a clear message and nothing written', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/graphql`;
  await new Promise((resolve) => closed.close(resolve));
  await writeLayout(deadUrl);
  try {
    const dead = await neurons('--write');
    assert.equal(dead.code, 1);
    assert.match(dead.stderr, new RegExp(`cannot reach NeuronBrowser at ${deadUrl} \\(ECONNREFUSED\\)\n.*--answer FILE`));
  } finally {
    await writeLayout(endpoint);
  }

  answer = json(200, { errors: [{ message: 'Cannot query field "brainArea" on type "Injection".' }], data: null });
  const gqlErrors = await neurons('--write');
  assert.equal(gqlErrors.code, 1);
  assert.match(gqlErrors.stderr, /NeuronBrowser \(http:.*\) answered with GraphQL errors: Cannot query field "brainArea" on type "Injection"\./);

  answer = json(502, { message: 'bad gateway' });
  const http502 = await neurons('--write');
  assert.equal(http502.code, 1);
  assert.match(http502.stderr, /answered HTTP 502/);

  answer = json(200, { data: { injections: [{ sample: { sampleDate: JUNE_24_2014 }, neurons: [{ tag: 'G-001' }] }] } });
  const shape = await neurons('--write');
  assert.equal(shape.code, 2);
  assert.match(shape.stderr, /does not have the expected shape \(data\.injections\.0\.neurons\.0\.idString: /);

  for (const r of [gqlErrors, http502, shape]) assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.deepEqual(written(), []);
});

test('a malformed SWC is reported with its line numbers and its date is not written', async () => {
  const bad = 'tracings/tracing_complete/2023-05-10/G-001/dendrite.swc';
  await writeFile(join(bucket, bad), '1 1 0 0 0 1 -1\n2 3 0 0 0 1\n3 3 0 0 0 1 9\n4 1 0 0 0 1 -1\n');
  answer = json(200, ANSWER);
  try {
    const r = await neurons('--write');
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`malformed SWC: ${bad}:2: 6 columns`));
    assert.match(r.stderr, new RegExp(`malformed SWC: ${bad}:3: node 3 has parent 9, which is not in the file`));
    assert.match(r.stderr, new RegExp(`malformed SWC: ${bad}:4: node 4 is a second root`));
    assert.match(r.stderr, /tracing_complete\/2023-05-10: not written, it references malformed SWC files/);
    assert.deepEqual(written().sort(), [
      'images/2014-06-24/neurons.json',
      'neurons/Finished_Neurons/2014-06-24/metadata.json',
      'neurons/tracing_complete/2014-06-24/metadata.json',
    ]);
  } finally {
    await rm(join(bucket, bad));
  }
});
