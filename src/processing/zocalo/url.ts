// Zocalo's RabbitMQ URLs (amqp://USER:PASSWORD@HOST:PORT/VHOST, the path being the vhost), without
// the AMQP client: what a command checks and shows before it connects.
import { FerryError } from '../../errors.ts';

export function zocaloWhere(url: string): { where: string; vhost: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badUrl(url);
  }
  if (!/^amqps?:$/.test(u.protocol) || !u.hostname) throw badUrl(url);
  const vhost = decodeURIComponent(u.pathname.replace(/^\//, '')) || '/';
  return { where: `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}/${u.pathname.replace(/^\//, '')}`, vhost };
}

function badUrl(url: string): FerryError {
  return new FerryError(`${url.replace(/:[^@/]*@/, ':***@')} is not a Zocalo (RabbitMQ) URL`, {
    hint: 'write it as amqp://USER:PASSWORD@HOST:PORT/VHOST, e.g. amqp://user:pw@rabbitmq.example.org:5672/zocalo',
  });
}
