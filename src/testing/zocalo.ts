// The RabbitMQ of scripts/services/rabbitmq.sh for the Zocalo tests, and a plain amqplib channel
// to look at queues the way Zocalo (or any other consumer) would see them.
import { connect } from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';

export function zocaloUrl(): string {
  const url = process.env.FERRY_TEST_ZOCALO_URL;
  if (!url) {
    throw new Error(
      'FERRY_TEST_ZOCALO_URL is not set: start RabbitMQ with `bash scripts/services/rabbitmq.sh start` and run `eval "$(bash scripts/services/rabbitmq.sh env)"`',
    );
  }
  return url;
}

export interface Broker {
  channel: Channel;
  /** A durable queue of its own for one test, deleted by close(). */
  queue(): Promise<string>;
  close(): Promise<void>;
}

export async function openBroker(): Promise<Broker> {
  const model: ChannelModel = await connect(zocaloUrl());
  const channel = await model.createChannel();
  const made: string[] = [];
  return {
    channel,
    queue: async () => {
      const name = `ferry-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
      await channel.assertQueue(name, { durable: true });
      made.push(name);
      return name;
    },
    close: async () => {
      for (const q of made) await channel.deleteQueue(q);
      await model.close();
    },
  };
}

/** Polls a condition until it holds (the broker delivers asynchronously). */
export { until } from './until.ts';
