// Zocalo's two roles over a real RabbitMQ (scripts/services/rabbitmq.sh): publishing SynchWeb's
// start and stop messages byte for byte, and consuming them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFerryError } from '../../errors.ts';
import { closedPort, silentServer } from '../../testing/net.ts';
import { RejectedRequest, listenZocalo } from './consume.ts';
import { decodeZocaloBody, zocaloBody } from './messages.ts';
import type { ZocaloRequest } from './messages.ts';
import { checkZocaloRoute, publishZocalo } from './publish.ts';
import { openBroker, until, zocaloUrl } from '../../testing/zocalo.ts';

function failsWith(code: string, text: RegExp) {
  return (e: unknown) => {
    assert.ok(isFerryError(e), String(e));
    assert.equal(e.code, code);
    assert.match(e.message, text);
    return true;
  };
}

test("start and stop go to processing_recipe on the default exchange with SynchWeb's exact bodies, persistent", async () => {
  const broker = await openBroker();
  // The queue Zocalo's dispatcher reads; declared here as Zocalo would have.
  await broker.channel.assertQueue('processing_recipe', { durable: true });
  await broker.channel.purgeQueue('processing_recipe');
  try {
    await publishZocalo(zocaloUrl(), { kind: 'start', processingJobId: 6611642 });
    await publishZocalo(zocaloUrl(), { kind: 'stop', processingJobId: 6611642 });
    const get = async () => (await broker.channel.get('processing_recipe', { noAck: true })) || undefined;
    const start = await until('the start message', get);
    assert.equal(start.content.toString('latin1'), '{"parameters":{"ispyb_process":6611642}}');
    assert.deepEqual([start.fields.exchange, start.fields.routingKey, start.properties.deliveryMode], ['', 'processing_recipe', 2]);
    const stop = await until('the stop message', get);
    assert.equal(stop.content.toString('latin1'), '{"recipes":["relion-stop"],"parameters":{"ispyb_process":6611642}}');
    assert.equal(stop.properties.deliveryMode, 2);
  } finally {
    await broker.channel.deleteQueue('processing_recipe');
    await broker.close();
  }
});

test('a message no queue takes is reported, not silently dropped', async () => {
  await assert.rejects(
    publishZocalo(zocaloUrl(), { kind: 'start', processingJobId: 12 }, { routingKey: 'nobody-reads-this' }),
    failsWith('ZocaloNotDelivered', /has no queue nobody-reads-this in vhost zocalo: the start request for processing job 12 was not delivered/),
  );
});

test('the route is checked before anything is sent: a queue nobody declared is named, and nothing is published', async () => {
  const broker = await openBroker();
  try {
    const queue = await broker.queue();
    await checkZocaloRoute(zocaloUrl(), { routingKey: queue });
    assert.equal((await broker.channel.checkQueue(queue)).messageCount, 0);
    await assert.rejects(
      checkZocaloRoute(zocaloUrl(), { routingKey: `${queue}-nobody` }),
      failsWith('ZocaloNotDelivered', new RegExp(`has no queue ${queue}-nobody in vhost zocalo: a request sent now would not be delivered`)),
    );
  } finally {
    await broker.close();
  }
});

test('an unreachable or refusing broker is a clear error within the connect timeout', async () => {
  const closed = await closedPort();
  await assert.rejects(publishZocalo(`amqp://ferry:pw@127.0.0.1:${closed}/zocalo`, { kind: 'start', processingJobId: 1 }), (e: unknown) => {
    failsWith('ZocaloUnreachable', new RegExp(`RabbitMQ at amqp://ferry@127.0.0.1:${closed}/zocalo is unreachable: .*ECONNREFUSED`))(e);
    assert.doesNotMatch(String((e as Error).message), /:pw@/);
    return true;
  });
  const silent = await silentServer();
  try {
    const url = `amqp://ferry:pw@127.0.0.1:${silent.port}/zocalo`;
    await assert.rejects(listenZocalo(url, async () => {}, { timeoutMs: 500 }), failsWith('ZocaloUnreachable', /ETIMEDOUT/));
  } finally {
    silent.close();
  }
  const wrongPassword = new URL(zocaloUrl());
  wrongPassword.password = 'wrong';
  await assert.rejects(publishZocalo(wrongPassword.toString(), { kind: 'start', processingJobId: 1 }), failsWith('ZocaloAccessDenied', /refused the user/));
  const wrongVhost = new URL(zocaloUrl());
  wrongVhost.pathname = '/no-such-vhost';
  await assert.rejects(publishZocalo(wrongVhost.toString(), { kind: 'start', processingJobId: 1 }), failsWith('ZocaloAccessDenied', /no vhost no-such-vhost/));
  await assert.rejects(publishZocalo('http://example.org/', { kind: 'start', processingJobId: 1 }), /is not a Zocalo \(RabbitMQ\) URL/);
});

test('the listener hands over start and stop requests and acknowledges each once handled', async () => {
  const broker = await openBroker();
  const queue = await broker.queue();
  const seen: ZocaloRequest[] = [];
  const listener = await listenZocalo(zocaloUrl(), async (req) => void seen.push(req), { queue });
  try {
    await publishZocalo(zocaloUrl(), { kind: 'start', processingJobId: 41 }, { routingKey: queue });
    await publishZocalo(zocaloUrl(), { kind: 'stop', processingJobId: 41 }, { routingKey: queue });
    await until('both requests', () => seen.length === 2 || undefined);
    assert.deepEqual(seen, [
      { kind: 'start', processingJobId: 41 },
      { kind: 'stop', processingJobId: 41 },
    ]);
  } finally {
    await listener.close();
  }
  await listener.done;
  assert.equal((await broker.channel.checkQueue(queue)).messageCount, 0);
  await broker.close();
});

test('messages that are not RELION requests, and requests the handler rejects, are dropped with a log line', async () => {
  const broker = await openBroker();
  const queue = await broker.queue();
  for (const body of ['not json', '{"parameters":{}}', '{"recipes":["ispyb-xia2"],"parameters":{"ispyb_process":5}}', '{"parameters":{"ispyb_process":"7"}}', '{"parameters":{"ispyb_process":8}}']) {
    broker.channel.sendToQueue(queue, Buffer.from(body), { persistent: true });
  }
  const log: string[] = [];
  const handled: number[] = [];
  const listener = await listenZocalo(
    zocaloUrl(),
    async (req) => {
      if (req.processingJobId === 7) throw new RejectedRequest('processing job 7 is recipe xia2, not relion');
      handled.push(req.processingJobId);
    },
    { queue, log: (l) => log.push(l) },
  );
  await until('the last request', () => handled.length === 1 || undefined);
  await listener.close();
  assert.deepEqual(handled, [8]);
  assert.equal(log.length, 4);
  assert.match(log[0], /dropped a message from ferry-test-.* \(vhost zocalo\): not a Zocalo processing request: not JSON: "not json"/);
  assert.match(log[1], /parameters.ispyb_process is undefined, not a processing job id/);
  assert.match(log[2], /recipes \["ispyb-xia2"\] is neither a RELION start/);
  assert.match(log[3], /dropped the start request for processing job 7: processing job 7 is recipe xia2, not relion/);
  // Dropped means dropped: nothing comes back.
  assert.equal((await broker.channel.checkQueue(queue)).messageCount, 0);
  await broker.close();
});

test('closed while a request is being handled, the listener lets it finish and acknowledges it before the connection goes', async () => {
  const broker = await openBroker();
  try {
    const queue = await broker.queue();
    for (let round = 0; round < 10; round++) {
      let release = () => {};
      let handling = false;
      const listener = await listenZocalo(
        zocaloUrl(),
        () => {
          handling = true;
          return new Promise<void>((r) => (release = r));
        },
        { queue },
      );
      await publishZocalo(zocaloUrl(), { kind: 'stop', processingJobId: 50 + round }, { routingKey: queue });
      await until('the request to be handled', () => handling || undefined);
      const closed = listener.close();
      // The handler ends only once the broker has taken the consumer off the queue: its acknowledgement
      // is then the last thing sent before the connection closes.
      await until('the consumer to be cancelled', async () => (await broker.channel.checkQueue(queue)).consumerCount === 0 || undefined);
      release();
      await closed;
      assert.equal((await broker.channel.checkQueue(queue)).messageCount, 0, `round ${round}: the handled request came back`);
    }
  } finally {
    await broker.close();
  }
});

test('a handler failure ends the listener and leaves the request queued for the next one', async () => {
  const broker = await openBroker();
  const queue = await broker.queue();
  await publishZocalo(zocaloUrl(), { kind: 'start', processingJobId: 99 }, { routingKey: queue });
  const first = await listenZocalo(
    zocaloUrl(),
    async () => {
      throw new Error('ISPyB is down');
    },
    { queue },
  );
  await assert.rejects(first.done, /ISPyB is down/);
  const seen: number[] = [];
  const second = await listenZocalo(zocaloUrl(), async (req) => void seen.push(req.processingJobId), { queue });
  await until('the redelivered request', () => seen.length === 1 || undefined);
  await second.close();
  assert.deepEqual(seen, [99]);
  assert.equal((await broker.channel.checkQueue(queue)).messageCount, 0);
  await broker.close();
});

test("the listener declares a missing queue, and uses one Zocalo declared with other arguments as it is", async () => {
  const broker = await openBroker();
  const fresh = `ferry-test-${process.pid}-fresh`;
  const listener = await listenZocalo(zocaloUrl(), async () => {}, { queue: fresh });
  await listener.close();
  assert.equal((await broker.channel.checkQueue(fresh)).messageCount, 0);
  await broker.channel.deleteQueue(fresh);
  const zocalos = `ferry-test-${process.pid}-zocalos`;
  await broker.channel.assertQueue(zocalos, { durable: true, arguments: { 'x-max-length': 1000 } });
  const seen: number[] = [];
  const onExisting = await listenZocalo(zocaloUrl(), async (req) => void seen.push(req.processingJobId), { queue: zocalos });
  await publishZocalo(zocaloUrl(), { kind: 'start', processingJobId: 3 }, { routingKey: zocalos });
  await until('the request', () => seen.length === 1 || undefined);
  await onExisting.close();
  await broker.channel.deleteQueue(zocalos);
  await broker.close();
});

test('bodies: exact bytes out, SynchWeb-style and text ids in, anything else refused', () => {
  assert.equal(zocaloBody({ kind: 'start', processingJobId: 5 }).toString(), '{"parameters":{"ispyb_process":5}}');
  assert.deepEqual(decodeZocaloBody(Buffer.from('{"parameters": {"ispyb_process": "5978855"}}')), { kind: 'start', processingJobId: 5978855 });
  assert.deepEqual(decodeZocaloBody(Buffer.from('{"recipes": [], "parameters": {"ispyb_process": 5}}')), { kind: 'start', processingJobId: 5 });
  assert.deepEqual(decodeZocaloBody(zocaloBody({ kind: 'stop', processingJobId: 5 })), { kind: 'stop', processingJobId: 5 });
  for (const bad of ['{"parameters":{"ispyb_process":0}}', '{"parameters":{"ispyb_process":1.5}}', '[]', '{"recipes":"relion-stop","parameters":{"ispyb_process":5}}']) {
    assert.throws(() => decodeZocaloBody(Buffer.from(bad)), (e: unknown) => isFerryError(e) && e.code === 'BadMessage', bad);
  }
});
