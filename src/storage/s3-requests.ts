// Every S3 request goes through here: on top of the SDK's own retries it waits out a server
// restart (connection refused for tens of seconds), refreshes credentials once on an expired-token
// answer, and turns what is left into a FerryError.
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Connection } from './s3-client.ts';
import { isExpiredCredentials, isRejectedKey, isRetryable, statusOf, toFerryError } from './s3-errors.ts';

export interface RetryPolicy {
  /** How long to keep retrying once the endpoint has answered at least once (a restart). */
  retryForMs: number;
  /** How long to retry before the endpoint ever answered (a wrong URL should fail fast). */
  firstContactRetryForMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retryForMs: 90_000, firstContactRetryForMs: 4_000 };

export class S3Requests {
  readonly conn: S3Connection;
  readonly bucket: string;
  readonly policy: RetryPolicy;
  private contacted = false;

  constructor(conn: S3Connection, bucket: string, policy: RetryPolicy) {
    this.conn = conn;
    this.bucket = bucket;
    this.policy = policy;
  }

  async call<T>(operation: string, key: string | undefined, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const started = Date.now();
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      try {
        const result = await fn();
        this.contacted = true;
        return result;
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        if (statusOf(e) !== undefined) this.contacted = true;
        if (!refreshed && (isExpiredCredentials(e) || isRejectedKey(e))) {
          // Keys may have been rotated or expired between our refresh and the request.
          refreshed = true;
          await this.conn.refreshCredentials();
          continue;
        }
        const budget = this.contacted ? this.policy.retryForMs : this.policy.firstContactRetryForMs;
        if (isRetryable(e) && Date.now() - started < budget) {
          const pause = Math.min(3_000, 200 * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random() / 2);
          await sleep(pause, undefined, { signal });
          continue;
        }
        throw toFerryError(e, {
          endpoint: this.conn.endpointLabel,
          bucket: this.bucket,
          key,
          credentials: this.conn.credentials.describe(),
          operation,
        });
      }
    }
  }
}
