// Publishes a start or stop request the way SynchWeb does (default exchange, routing key
// `processing_recipe`, the exact body), and makes sure it arrived: the broker confirms it, and a
// message no queue takes is reported instead of silently dropped. Deliberate difference: the
// message is persistent (SynchWeb's php-amqplib message has no properties), so a broker restart
// does not lose a start.
import { FerryError } from '../../errors.ts';
import { connectZocalo, zocaloError } from './connect.ts';
import type { ZocaloConnectOptions } from './connect.ts';
import { ZOCALO_ROUTING_KEY, zocaloBody } from './messages.ts';
import type { ZocaloRequest } from './messages.ts';

export interface PublishOptions extends ZocaloConnectOptions {
  /** Default `processing_recipe`. */
  routingKey?: string;
}

/**
 * Fails as publishing would, before anything else is done: unless the broker is reachable, the user
 * may use the vhost, and a queue takes what is sent to the routing key.
 */
export async function checkZocaloRoute(url: string, opts: PublishOptions = {}): Promise<void> {
  const routingKey = opts.routingKey ?? ZOCALO_ROUTING_KEY;
  const { model, where, vhost } = await connectZocalo(url, opts);
  try {
    const channel = await model.createChannel();
    channel.on('error', () => {}); // a missing queue closes the channel with 404, reported below
    await channel.checkQueue(routingKey).catch((e: unknown) => {
      throw /NOT_FOUND|404/.test(String((e as Error)?.message))
        ? new FerryError(`RabbitMQ at ${where} has no queue ${routingKey} in vhost ${vhost}: a request sent now would not be delivered`, {
            hint: `start the consumer first (Zocalo, or ferry relion listen), which declares the queue ${routingKey}`,
            code: 'ZocaloNotDelivered',
          })
        : e;
    });
  } catch (e) {
    throw zocaloError(e, where, vhost);
  } finally {
    await model.close().catch(() => {});
  }
}

export async function publishZocalo(url: string, req: ZocaloRequest, opts: PublishOptions = {}): Promise<void> {
  const routingKey = opts.routingKey ?? ZOCALO_ROUTING_KEY;
  const { model, where, vhost } = await connectZocalo(url, opts);
  try {
    const channel = await model.createConfirmChannel();
    let returned = false;
    channel.on('return', () => (returned = true));
    channel.publish('', routingKey, zocaloBody(req), { persistent: true, mandatory: true });
    // The broker sends basic.return (unroutable) before it confirms the same message.
    await channel.waitForConfirms();
    if (returned) {
      throw new FerryError(`RabbitMQ at ${where} has no queue ${routingKey} in vhost ${vhost}: the ${req.kind} request for processing job ${req.processingJobId} was not delivered`, {
        hint: `start the consumer first (Zocalo, or ferry relion listen), which declares the queue ${routingKey}`,
        code: 'ZocaloNotDelivered',
      });
    }
    await channel.close();
  } catch (e) {
    throw zocaloError(e, where, vhost);
  } finally {
    await model.close().catch(() => {});
  }
}
