// Tests wait for states, never for the clock: a condition is polled until it holds. Its deadline is
// only a safety net, minutes above what the busiest machine needs, and says what was awaited (and,
// when `what` is a function, what was last seen) if it ever fires.
import { setTimeout as sleep } from 'node:timers/promises';

/** Long enough for any machine still doing the work; short of the test runner's own 10 minutes. */
export const SAFETY_NET_MS = 5 * 60_000;
/** For work queued on the scheduler behind other users' jobs (seen here: 4 minutes in the queue). */
export const QUEUE_SAFETY_NET_MS = 9 * 60_000;

/** Polls `probe` until it returns a value other than undefined, null or false, and returns that value. */
export async function until<T>(
  what: string | (() => string | Promise<string>),
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = SAFETY_NET_MS,
  everyMs = 50,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) {
      const described = typeof what === 'string' ? what : await what();
      throw new Error(`gave up after ${Math.round(timeoutMs / 1000)} s waiting for ${described}`);
    }
    await sleep(everyMs);
  }
}
