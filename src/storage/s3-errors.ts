// Turns what S3 and the network answer into the one-line messages a user can act on, and says
// which failures are worth retrying.
import { FerryError } from '../errors.ts';
import { KeyNotFound } from './store.ts';

interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
const RETRYABLE_NAMES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'RequestTimeTooSkewed', 'InternalError', 'ServiceUnavailable', 'TimeoutError', 'RequestTimeoutException', 'BadDigest', 'XAmzContentSHA256Mismatch']);
const EXPIRED_NAMES = new Set(['ExpiredToken', 'ExpiredTokenException', 'TokenRefreshRequired', 'InvalidToken']);
const BAD_KEY_NAMES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch']);

function shape(e: unknown): ErrorShape {
  return (e && typeof e === 'object' ? e : {}) as ErrorShape;
}

/** The network error code, looking inside AggregateError (Node's happy-eyeballs connect). */
function networkCode(e: unknown): string | undefined {
  const s = shape(e);
  if (s.code && NETWORK_CODES.has(s.code)) return s.code;
  if (Array.isArray(s.errors)) for (const inner of s.errors) { const c = networkCode(inner); if (c) return c; }
  if (/socket hang up/i.test(s.message ?? '')) return 'ECONNRESET';
  return undefined;
}

export function statusOf(e: unknown): number | undefined {
  return shape(e).$metadata?.httpStatusCode;
}

function errorName(e: unknown): string {
  return shape(e).name ?? '';
}

/** Worth sending again after a pause: server busy or restarting, connection lost. */
export function isRetryable(e: unknown): boolean {
  if (e instanceof FerryError) return false;
  const code = networkCode(e);
  if (code) return code !== 'ENOTFOUND';
  const status = statusOf(e);
  if (status !== undefined && status >= 500) return true;
  return RETRYABLE_NAMES.has(errorName(e));
}

/**
 * The upload id is gone (completed, aborted, or lost by the server), also when already wrapped in
 * a FerryError. For a call on an upload id only: Ceph before Quincy answers NoSuchKey where AWS
 * answers NoSuchUpload.
 */
export function isNoSuchUpload(e: unknown): boolean {
  const names = [errorName(e), errorName((e as { cause?: unknown } | undefined)?.cause)];
  return names.includes('NoSuchUpload') || names.includes('NoSuchKey');
}

export function isExpiredCredentials(e: unknown): boolean {
  return EXPIRED_NAMES.has(errorName(e));
}

export function isRejectedKey(e: unknown): boolean {
  return BAD_KEY_NAMES.has(errorName(e));
}

export interface ErrorContext {
  endpoint: string;
  bucket: string;
  key?: string;
  credentials: string;
  operation: string;
}

/** A FerryError for everything the user can fix; anything else is returned unchanged (a bug or unknown). */
export function toFerryError(e: unknown, ctx: ErrorContext): unknown {
  if (e instanceof FerryError) return e;
  if ((e as Error)?.name === 'AbortError') return e;
  const name = errorName(e);
  const status = statusOf(e);
  const where = ctx.key === undefined ? `s3://${ctx.bucket}` : `s3://${ctx.bucket}/${ctx.key}`;
  const net = networkCode(e);
  if (net === 'ENOTFOUND' || net === 'EAI_AGAIN') {
    return new FerryError(`cannot resolve the S3 endpoint ${ctx.endpoint} (${net})`, { hint: 'check --endpoint-url / AWS_ENDPOINT_URL and the network', code: 'EndpointUnreachable', cause: e });
  }
  if (net) {
    return new FerryError(`cannot reach the S3 endpoint ${ctx.endpoint} (${net}, after retries)`, { hint: 'check that the server is running and --endpoint-url / AWS_ENDPOINT_URL points at it', code: 'EndpointUnreachable', cause: e });
  }
  if (name === 'NoSuchBucket') {
    return new FerryError(`bucket ${ctx.bucket} does not exist at ${ctx.endpoint}`, { hint: 'check the bucket name and the endpoint, or create the bucket first', code: 'NoSuchBucket', cause: e });
  }
  if (BAD_KEY_NAMES.has(name)) {
    return new FerryError(`${ctx.endpoint} rejected the credentials (${name}) used for ${where}: ${ctx.credentials}`, {
      hint: 'check the access key and secret for this endpoint (--profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the credential command)',
      code: name,
      cause: e,
    });
  }
  if (EXPIRED_NAMES.has(name)) {
    return new FerryError(`the credentials for ${where} expired and a refresh did not help: ${ctx.credentials}`, { hint: 'log in again (e.g. aws sso login) or fix the credential command', code: name, cause: e });
  }
  if (name === 'AccessDenied' || name === 'AllAccessDisabled' || status === 403) {
    return new FerryError(`access denied: ${ctx.operation} ${where} at ${ctx.endpoint} with ${ctx.credentials}`, {
      hint: 'check the credentials and that their policy allows this action on the bucket',
      code: 'AccessDenied',
      cause: e,
    });
  }
  if (name === 'InvalidBucketName') {
    return new FerryError(`${ctx.endpoint} says "${ctx.bucket}" is not a valid bucket name`, { code: name, cause: e });
  }
  if (name === 'NoSuchKey' || (status === 404 && ctx.key !== undefined)) return new KeyNotFound(where, e);
  if (isRetryable(e)) {
    const why = name || (status ? `HTTP ${status}` : 'error');
    return new FerryError(`${ctx.operation} ${where} failed at ${ctx.endpoint} after retries: ${why}`, { hint: 'the server is failing or overloaded; run the same command again to resume', code: why, exitCode: 1, cause: e });
  }
  if (status !== undefined && status >= 400 && status < 500) {
    const detail = (e as Error).message && (e as Error).message !== 'UnknownError' ? `: ${(e as Error).message}` : '';
    return new FerryError(`${ctx.operation} ${where} was refused by ${ctx.endpoint} (${name || `HTTP ${status}`}${detail})`, {
      hint: 'check the options given for this store (storage class, ACL, headers)',
      code: name || `HTTP${status}`,
      exitCode: 1,
      cause: e,
    });
  }
  return e;
}
