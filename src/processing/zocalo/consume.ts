// Takes start and stop requests off Zocalo's `processing_recipe` queue, one at a time, so that
// Ferry can stand in for Zocalo behind SynchWeb. A request is acknowledged only after its handler
// succeeded. A message that is not a RELION request, or that the handler rejects (RejectedRequest),
// is dropped with a log line: redelivering it could never succeed. Any other handler failure
// (ISPyB down, ...) puts the message back on the queue and ends the listener with that error, so
// nothing is lost and nothing spins.
import type { Channel, ConsumeMessage } from 'amqplib';
import { FerryError, errorMessage } from '../../errors.ts';
import { connectZocalo, zocaloError } from './connect.ts';
import type { ZocaloConnectOptions } from './connect.ts';
import { ZOCALO_ROUTING_KEY, decodeZocaloBody } from './messages.ts';
import type { ZocaloRequest } from './messages.ts';

/** Thrown by a handler for a request that can never be carried out (unknown job, another recipe, ...). */
export class RejectedRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RejectedRequest';
  }
}

export interface ListenOptions extends ZocaloConnectOptions {
  /** Default `processing_recipe` (the queue SynchWeb's routing key reaches). */
  queue?: string;
  log?: (line: string) => void;
}

export interface ZocaloListener {
  /** Settles when the listener stops: resolved after close(), rejected when the broker or a handler failed. */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

export async function listenZocalo(url: string, handle: (req: ZocaloRequest) => Promise<void>, opts: ListenOptions = {}): Promise<ZocaloListener> {
  const queue = opts.queue ?? ZOCALO_ROUTING_KEY;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { model, where, vhost } = await connectZocalo(url, opts);
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => {}); // a caller that only ever calls close() must not crash on a failure it did not ask about
  let closing = false;
  const fail = (e: unknown) => {
    if (closing) return;
    closing = true;
    settle.reject(e);
    model.close().catch(() => {});
  };
  model.on('error', () => {}); // the 'close' that follows carries the failure
  model.on('close', () => fail(new FerryError(`lost the connection to RabbitMQ at ${where}`, { hint: 'start ferry relion listen again once RabbitMQ is back; unacknowledged requests stay queued', code: 'ZocaloUnreachable' })));

  let channel: Channel;
  let consumerTag: string;
  let inFlight: Promise<void> = Promise.resolve();
  const onMessage = async (msg: ConsumeMessage) => {
    let req: ZocaloRequest;
    try {
      req = decodeZocaloBody(msg.content);
    } catch (e) {
      log(`zocalo: dropped a message from ${queue} (vhost ${vhost}): ${errorMessage(e)}`);
      channel.reject(msg, false);
      return;
    }
    try {
      await handle(req);
    } catch (e) {
      if (e instanceof RejectedRequest) {
        log(`zocalo: dropped the ${req.kind} request for processing job ${req.processingJobId}: ${e.message}`);
        channel.reject(msg, false);
        return;
      }
      channel.nack(msg, false, true);
      fail(e);
      return;
    }
    channel.ack(msg);
  };
  try {
    channel = await openQueue(model, queue);
    channel.on('error', (e) => fail(zocaloError(e, where, vhost)));
    await channel.prefetch(1);
    ({ consumerTag } = await channel.consume(
      queue,
      (msg) => {
        if (msg === null) {
          fail(new FerryError(`RabbitMQ at ${where} cancelled the listener (queue ${queue} deleted?)`, { code: 'ZocaloCancelled' }));
          return;
        }
        // prefetch 1: the broker sends the next request only after this one is settled.
        inFlight = onMessage(msg).catch((e) => fail(e));
      },
      { noAck: false },
    ));
  } catch (e) {
    closing = true;
    await model.close().catch(() => {});
    throw zocaloError(e, where, vhost);
  }

  return {
    done,
    close: async () => {
      if (closing) return done.catch(() => {});
      closing = true;
      // Let a request being handled finish and be acknowledged before the connection goes. The
      // channel is closed first: amqplib sends each channel's frames from a buffer of its own, so a
      // connection close could overtake the last acknowledgement and the broker requeue its request.
      await channel.cancel(consumerTag).catch(() => {});
      await inFlight;
      await channel.close().catch(() => {});
      await model.close().catch(() => {});
      settle.resolve();
    },
  };
}

/**
 * The queue, declared durable if it does not exist yet. One Zocalo already declared is used as
 * it is: declaring it again with other arguments (a quorum queue, a dead-letter exchange) would fail.
 */
async function openQueue(model: Awaited<ReturnType<typeof connectZocalo>>['model'], queue: string): Promise<Channel> {
  const probe = await model.createChannel();
  probe.on('error', () => {}); // a missing queue closes the probe channel with 404
  try {
    await probe.checkQueue(queue);
    await probe.close();
  } catch {
    const declare = await model.createChannel();
    await declare.assertQueue(queue, { durable: true });
    return declare;
  }
  return model.createChannel();
}
