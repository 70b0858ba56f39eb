// ferry mouselight neurons against the real S3 server (scripts/services/s3.sh): tracings in a
// bucket, NeuronBrowser's GraphQL answer served by a small local endpoint (NeuronBrowser itself
// cannot run here), and the metadata files compared byte for byte with what hortacloud-utilities'
// bin/update_aws_neurons.py (process_prefix) writes for the same bucket and answer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { INJECTIONS_QUERY } from '../../recipes/mouselight/neuronbrowser.ts';
import { GOOD_SWC, sampleLayout } from '../../testing/mouselight-facility.ts';
import { adminClient, createBucket, dropBucket, s3TestServer, serverEnv } from '../../testing/s3.ts';
import { jsonLines, runFerry } from '../../testing/cli.ts';

// NeuronBrowser keeps sample dates as epoch milliseconds; the layout reads them in New York.
const JUNE_24_2014 = 1403582400000; // 2014-06-24T04:00:00Z: midnight, EDT
const DEC_31_2014_LAST_MS = 1420088399999; // 2015-01-01T04:59:59.999Z: 23:59:59.999 on 2014-12-31, EST
const JAN_23_2019 = 1548219600000; // 2019-01-23T05:00:00Z: midnight, EST

const ANSWER = {
  data: {
    injections: [
      {
        sample: { sampleDate: JUNE_24_2014 },
        neurons: [
          { idString: 'AA0230', tag: 'G-001' },
          { idString: 'AA0238', tag: 'G-001-b' },
          { idString: 'AA0100', tag: 'G-002' },
          { idString: 'AA0232', tag: 'G-003' },
          { idString: 'AA0233', tag: 'G-004' },
          { idString: 'AA0236', tag: 'G-008' },
          { idString: 'AA0299', tag: 'Y-007' },
        ],
        brainArea: { name: 'Somatomotor areas' },
      },
      // A second injection into the same sample.
      { sample: { sampleDate: JUNE_24_2014 }, neurons: [{ idString: 'AA0234', tag: 'G-005' }], brainArea: { name: 'Thalamus' } },
      { sample: null, neurons: [{ idString: 'AA9999', tag: 'G-006' }], brainArea: null },
      { sample: { sampleDate: JUNE_24_2014 }, neurons: [], brainArea: { name: 'Medulla' } },
      { sample: { sampleDate: DEC_31_2014_LAST_MS }, neurons: [{ idString: 'AA0400', tag: 'G-001' }], brainArea: { name: 'Primary visual area' } },
      { sample: { sampleDate: JAN_23_2019 }, neurons: [{ idString: 'AA0900', tag: 'G-009' }], brainArea: { name: 'Thalamus' } },
    ],
  },
};

const EMPTY = '';
const TRACINGS: Record<string, string | Buffer> = {
  'tracings/Finished_Neurons/2014-06-24/G-001/soma.txt': 'Secondary motor area, layer 5\n',
  'tracings/Finished_Neurons/2014-06-24/G-001/consensus.swc': GOOD_SWC,
  'tracings/Finished_Neurons/2014-06-24/G-001/dendrite.swc': GOOD_SWC,
  'tracings/Finished_Neurons/2014-06-24/G-002/consensus.swc': GOOD_SWC,
  'tracings/Finished_Neurons/2014-06-24/G-003/notes.txt': 'no tracing yet\n',
  'tracings/Finished_Neurons/2014-06-24/G-006/consensus.swc': GOOD_SWC, // a tag NeuronBrowser does not publish
  'tracings/Finished_Neurons/2014-06-24/Y-007/consensus.swc': GOOD_SWC, // published, but not a G- folder
  'tracings/Finished_Neurons/2014-12-31/G-001/soma.txt': 'Primary visual area, layer 4',
  'tracings/Finished_Neurons/2014-12-31/G-001/consensus.swc': GOOD_SWC,
  // The day 2014-12-31's last millisecond falls on in UTC: NeuronBrowser has no sample that day here.
  'tracings/Finished_Neurons/2015-01-01/G-001/consensus.swc': GOOD_SWC,
  'tracings/tracing_complete/2014-06-24/G-001/soma.txt': 'Secondary motor area, layer 5\n',
  'tracings/tracing_complete/2014-06-24/G-001/consensus.swc': GOOD_SWC,
  'tracings/tracing_complete/2014-06-24/G-001/dendrite.swc': GOOD_SWC,
  'tracings/tracing_complete/2014-06-24/G-001-b/consensus.swc': GOOD_SWC,
  'tracings/tracing_complete/2014-06-24/G-002/soma.txt': 'Área postrema',
  'tracings/tracing_complete/2014-06-24/G-002/dendrite.swc': GOOD_SWC,
  'tracings/tracing_complete/2014-06-24/G-003/consensus.swc': GOOD_SWC,
  'tracings/tracing_complete/2014-06-24/G-003/dendrite.swc': GOOD_SWC,
  'tracings/tracing_complete/2014-06-24/G-004/soma.txt': 'Caudoputamen',
  'tracings/tracing_complete/2014-06-24/G-005/soma.txt': 'Thalamus\r\n',
  'tracings/tracing_complete/2014-06-24/G-005/consensus.swc': GOOD_SWC,
  'tracings/tracing_complete/2014-06-24/G-006/soma.txt': 'Caudoputamen',
  'tracings/tracing_complete/2014-06-24/G-008/soma.txt': EMPTY,
  'tracings/tracing_complete/2014-06-24/G-008/consensus.swc': EMPTY,
  'tracings/tracing_complete/2014-06-24/G-008/dendrite.swc': GOOD_SWC,
  'tracings/tracing_complete/2014-06-24/Y-007/soma.txt': 'Caudoputamen',
  // A published date without any published G- folder.
  'tracings/tracing_complete/2019-01-23/G-001/consensus.swc': GOOD_SWC,
  'tracings/tracing_complete/2019-01-23/Y-007/consensus.swc': GOOD_SWC,
  // A published date whose folder holds no neuron folder at all.
  'tracings/tracing_complete/2014-12-31/README.txt': 'tracings follow\n',
  // Not a date.
  'tracings/tracing_complete/misc/G-001/consensus.swc': GOOD_SWC,
};

// The files update_aws_neurons.py writes for this bucket and answer, read off its rules: per
// location and date folder that NeuronBrowser knows, {"title": "<date> MouseLight published
// neurons", "neurons": {...}} in json.dumps' default form; a neuron per published G- folder in
// listing order, keyed by id: originalName; somaLocation (soma.txt as read) and injectionLocation
// when soma.txt is non-empty; consensus / dendrite ("../../<key>") for each non-empty SWC;
// tracing_complete also to images/<date>/neurons.json. Where Ferry deliberately differs (README,
// MouseLight section), the entry says so.
const tc = (n: string, kind: string) => `../../tracings/tracing_complete/2014-06-24/${n}/${kind}.swc`;
const COMPLETE_2014 =
  '{"title": "2014-06-24 MouseLight published neurons", "neurons": {' +
  `"AA0238": {"originalName": "G-001-b", "consensus": "${tc('G-001-b', 'consensus')}"}, ` +
  // As the script does: the area of the date's last injection (Thalamus) for every neuron of the date.
  `"AA0230": {"originalName": "G-001", "somaLocation": "Secondary motor area, layer 5\\n", "injectionLocation": "Thalamus", "consensus": "${tc('G-001', 'consensus')}", "dendrite": "${tc('G-001', 'dendrite')}"}, ` +
  `"AA0100": {"originalName": "G-002", "somaLocation": "\\u00c1rea postrema", "injectionLocation": "Thalamus", "dendrite": "${tc('G-002', 'dendrite')}"}, ` +
  `"AA0232": {"originalName": "G-003", "consensus": "${tc('G-003', 'consensus')}", "dendrite": "${tc('G-003', 'dendrite')}"}, ` +
  '"AA0233": {"originalName": "G-004", "somaLocation": "Caudoputamen", "injectionLocation": "Thalamus"}, ' +
  `"AA0234": {"originalName": "G-005", "somaLocation": "Thalamus\\r\\n", "injectionLocation": "Thalamus", "consensus": "${tc('G-005', 'consensus')}"}, ` +
  `"AA0236": {"originalName": "G-008", "dendrite": "${tc('G-008', 'dendrite')}"}` +
  '}}';
const EXPECTED: Record<string, string> = {
  'neurons/Finished_Neurons/2014-06-24/metadata.json':
    '{"title": "2014-06-24 MouseLight published neurons", "neurons": {' +
    '"AA0230": {"originalName": "G-001", "somaLocation": "Secondary motor area, layer 5\\n", "injectionLocation": "Thalamus", ' +
    '"consensus": "../../tracings/Finished_Neurons/2014-06-24/G-001/consensus.swc", "dendrite": "../../tracings/Finished_Neurons/2014-06-24/G-001/dendrite.swc"}, ' +
    '"AA0100": {"originalName": "G-002", "consensus": "../../tracings/Finished_Neurons/2014-06-24/G-002/consensus.swc"}, ' +
    '"AA0232": {"originalName": "G-003"}' +
    '}}',
  'neurons/Finished_Neurons/2014-12-31/metadata.json':
    '{"title": "2014-12-31 MouseLight published neurons", "neurons": {' +
    '"AA0400": {"originalName": "G-001", "somaLocation": "Primary visual area, layer 4", "injectionLocation": "Primary visual area", ' +
    '"consensus": "../../tracings/Finished_Neurons/2014-12-31/G-001/consensus.swc"}' +
    '}}',
  'neurons/tracing_complete/2014-06-24/metadata.json': COMPLETE_2014,
  'images/2014-06-24/neurons.json': COMPLETE_2014,
  // Not written, where the script writes or stops:
  // - neurons/tracing_complete/2019-01-23/metadata.json: the script's "populated" flag, set by an
  //   earlier date, gives it '{"title": "2019-01-23 MouseLight published neurons", "neurons": {}}'.
  // - tracing_complete/2014-12-31: the script stops ("has no prefixes on AWS S3"); Ferry warns.
};

const server = s3TestServer();
let admin: S3Client;
let bucket: string;
let dir: string;
let graphql: http.Server;
let endpoint: string;
let answer: (res: http.ServerResponse) => void;
const queries: string[] = [];

const put = (key: string, body: string | Buffer) => admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(body), ContentLength: Buffer.byteLength(body) }));
const remove = (key: string) => admin.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
const read = async (key: string) => Buffer.from(await (await admin.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());

/** Every metadata object in the bucket (under neurons/ and images/). */
async function written(): Promise<string[]> {
  const keys: string[] = [];
  for (const prefix of ['neurons/', 'images/']) {
    let token: string | undefined;
    do {
      const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return keys.sort();
}

before(async () => {
  admin = adminClient(server);
  bucket = await createBucket(admin, 'ferry-ml-neurons');
  for (const [key, body] of Object.entries(TRACINGS)) await put(key, body);
  dir = await mkdtemp(join(tmpdir(), 'ferry-ml-neurons-'));
  await writeFile(join(dir, 'answer.json'), JSON.stringify(ANSWER));
  graphql = http.createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    queries.push(req.method === 'POST' ? JSON.parse(body).query : `${req.method} without a body`);
    answer(res);
  });
  await new Promise<void>((resolve) => graphql.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(graphql.address() as AddressInfo).port}/graphql`;
  await writeLayout(endpoint);
});

after(async () => {
  graphql.closeAllConnections();
  await new Promise((resolve) => graphql.close(resolve));
  await dropBucket(admin, bucket);
  admin.destroy();
  await rm(dir, { recursive: true, force: true });
});

const writeLayout = (url: string) =>
  writeFile(join(dir, 'layout.yaml'), sampleLayout(join(dir, 'facility'), `s3://${bucket}`, `neurons:\n  graphql: ${url}\n  timeZone: America/New_York\n  timeoutSeconds: 120\n`));
const neurons = (...args: string[]) =>
  runFerry(['mouselight', 'neurons', '--config', 'layout.yaml', ...args], {
    cwd: dir,
    env: { ...serverEnv(server), FERRY_WORKDIR: join(dir, '.ferry') },
  });
const json = (status: number, body: unknown) => (res: http.ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

test('--write puts, byte for byte, the files the facility script writes (and no others)', async () => {
  answer = json(200, ANSWER);
  queries.length = 0;
  const r = await neurons('--write');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(queries, [INJECTIONS_QUERY]);
  assert.deepEqual(await written(), Object.keys(EXPECTED).sort());
  for (const [key, expected] of Object.entries(EXPECTED)) {
    assert.equal((await read(key)).toString('utf8'), expected, key);
    const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.ContentType, 'binary/octet-stream', `${key}: no content type, as the script uploads it`);
  }
  assert.match(r.stdout, /3 date\(s\) built, 4 file\(s\) written and verified/);
  assert.match(r.stderr, /Finished_Neurons\/2015-01-01: NeuronBrowser has no neurons for this date; no metadata written/);
  assert.match(r.stderr, /tracing_complete\/misc: NeuronBrowser has no neurons for this date/);
  assert.match(r.stderr, /tracing_complete\/2019-01-23: none of its 2 tracing folders is a published G- neuron; no metadata written/);
  assert.match(r.stderr, /tracing_complete\/2014-12-31: it holds no neuron folders; no metadata written/);
  for (const key of await written()) await remove(key);
});

test('without --write, every file is printed as it would be written, and nothing is written', async () => {
  answer = json(200, ANSWER);
  const r = await neurons('--json');
  assert.equal(r.code, 0, r.stderr);
  const events = jsonLines(r.stdout).filter((l) => l.type === 'metadata');
  const printed = Object.fromEntries(events.flatMap((e) => e.keys.map((k: string) => [k, e.metadata])));
  const parsed = Object.fromEntries(Object.entries(EXPECTED).map(([k, v]) => [k, JSON.parse(v)]));
  assert.deepEqual(printed, parsed);
  assert.ok(events.every((e) => e.written === false));

  const human = await neurons();
  assert.equal(human.code, 0, human.stderr);
  for (const [key, expected] of Object.entries(EXPECTED)) {
    assert.ok(human.stdout.includes(`would write s3://${bucket}/${key}:\n  ${expected}\n`), `${key}\n${human.stdout}`);
  }
  assert.deepEqual(await written(), []);
});

test('a saved answer is read instead of asking NeuronBrowser', async () => {
  answer = json(500, { error: 'must not be asked' });
  queries.length = 0;
  const r = await neurons('--answer', 'answer.json', '--write', '--location', 'Finished_Neurons', '--date', '2014-12-31');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(queries, []);
  const key = 'neurons/Finished_Neurons/2014-12-31/metadata.json';
  assert.deepEqual(await written(), [key]);
  assert.equal((await read(key)).toString('utf8'), EXPECTED[key]);
  await remove(key);
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
  assert.deepEqual(await written(), []);
});

test('a malformed SWC is reported with its line numbers and its date is not written', async () => {
  const bad = 'tracings/tracing_complete/2014-06-24/G-003/dendrite.swc';
  await put(bad, '1 1 0 0 0 1 -1\n2 3 0 0 0 1\n3 3 0 0 0 1 9\n4 1 0 0 0 1 -1\n');
  answer = json(200, ANSWER);
  try {
    const r = await neurons('--write');
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`malformed SWC: ${bad}:2: 6 columns`));
    assert.match(r.stderr, new RegExp(`malformed SWC: ${bad}:3: node 3 has parent 9, which is not in the file`));
    assert.match(r.stderr, new RegExp(`malformed SWC: ${bad}:4: node 4 is a second root`));
    assert.match(r.stderr, /tracing_complete\/2014-06-24: not written, it references malformed SWC files/);
    assert.deepEqual(await written(), ['neurons/Finished_Neurons/2014-06-24/metadata.json', 'neurons/Finished_Neurons/2014-12-31/metadata.json']);
    for (const key of await written()) await remove(key);
  } finally {
    await put(bad, GOOD_SWC);
  }
});

test('a soma.txt that is not UTF-8 stops the run before anything is written', async () => {
  const soma = 'tracings/Finished_Neurons/2014-12-31/G-001/soma.txt';
  await put(soma, Buffer.from([0x56, 0x31, 0xff, 0x0a]));
  answer = json(200, ANSWER);
  try {
    const r = await neurons('--write');
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`s3://${bucket}/${soma} is not UTF-8 text`));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.deepEqual(await written(), []);
  } finally {
    await put(soma, TRACINGS[soma]);
  }
});
