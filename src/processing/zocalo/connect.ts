// A connection to Zocalo's RabbitMQ (AMQP 0-9-1) from an amqp:// URL whose path is the vhost
// (`zocalo` at Diamond), failing in seconds with an error a user can act on.
import { connect } from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { zocaloWhere } from './url.ts';
import { FerryError } from '../../errors.ts';

export interface ZocaloConnectOptions {
  /** How long to wait for the broker's handshake before giving up (default 5 s). */
  timeoutMs?: number;
}

export interface ZocaloConnection {
  model: ChannelModel;
  /** The URL without its password. */
  where: string;
  /** The vhost, for messages. */
  vhost: string;
}

export async function connectZocalo(url: string, opts: ZocaloConnectOptions = {}): Promise<ZocaloConnection> {
  const { where, vhost } = zocaloWhere(url);
  try {
    const model = await connect(url, { timeout: opts.timeoutMs ?? 5000 });
    return { model, where, vhost };
  } catch (e) {
    throw zocaloError(e, where, vhost);
  }
}

/** An amqplib failure as a FerryError naming the broker. */
export function zocaloError(e: unknown, where: string, vhost: string): FerryError {
  if (e instanceof FerryError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  if (/ACCESS[-_]REFUSED|403/.test(detail)) {
    return new FerryError(`RabbitMQ at ${where} refused the user: ${detail}`, {
      hint: 'check the user and password in the --zocalo URL',
      code: 'ZocaloAccessDenied',
      cause: e,
    });
  }
  // A broker refuses a vhost by closing the connection in answer to connection.open; amqplib
  // reports that close without its reply text.
  if (/NOT[-_]ALLOWED|530|Expected ConnectionOpenOk; got <ConnectionClose/.test(detail)) {
    return new FerryError(`RabbitMQ at ${where} has no vhost ${vhost} this user may use: ${detail}`, {
      hint: 'the path of the --zocalo URL is the vhost (zocalo at Diamond); check its name and the user\'s permissions',
      code: 'ZocaloAccessDenied',
      cause: e,
    });
  }
  const code = (e as { code?: unknown })?.code;
  if ((typeof code === 'string' && /^E[A-Z]+$/.test(code)) || /ETIMEDOUT|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ECONNRESET|Socket closed/.test(detail)) {
    return new FerryError(`RabbitMQ at ${where} is unreachable: ${detail}`, {
      hint: 'check the host and port in the --zocalo URL and that RabbitMQ is running',
      code: 'ZocaloUnreachable',
      cause: e,
    });
  }
  return new FerryError(`RabbitMQ at ${where} refused: ${detail}`, { code: 'ZocaloRefused', cause: e });
}
