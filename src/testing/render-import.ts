// Runs a planned import in one call (open, batches a few at a time, finish, verify; `<stack>_restart`
// first), for the tests of src/render; the FIB-SEM recipe runs the same steps as ledger jobs
// (src/recipes/fibsem/render/jobs.ts).
import { mapLimited } from '../map-limited.ts';
import type { RenderClient } from '../render/client.ts';
import { finishStack, openStack, sendBatch } from '../render/import.ts';
import type { ImportOptions } from '../render/import.ts';
import type { StackImport } from '../render/stack-import.ts';
import { verifyStack } from '../render/verify.ts';
import type { StackVerification, VerifyOptions } from '../render/verify.ts';

export interface DriveOptions extends ImportOptions {
  concurrency?: number;
  /** Batch keys already done (as the ledger would know them): not sent again. */
  done?: Set<string>;
  /** Stop (as if killed) once this many batches were started in this run; those in flight finish. */
  stopAfter?: number;
  verify?: VerifyOptions;
}

export interface DriveResult {
  sent: string[];
  stopped: boolean;
  verifications: StackVerification[];
}

export async function driveImport(client: RenderClient, stacks: StackImport[], opts: DriveOptions = {}): Promise<DriveResult> {
  const sent: string[] = [];
  const verifications: StackVerification[] = [];
  let started = 0;
  for (const s of stacks) {
    await openStack(client, s, opts);
    const todo = s.batches.filter((b) => !opts.done?.has(b.key));
    let stopped = false;
    await mapLimited(todo, opts.concurrency ?? 3, async (b) => {
      if (opts.stopAfter !== undefined && started >= opts.stopAfter) {
        stopped = true;
        return;
      }
      started++;
      await sendBatch(client, s, b);
      sent.push(b.key);
      opts.done?.add(b.key);
    });
    if (stopped) return { sent, stopped, verifications };
    await finishStack(client, s, opts);
    verifications.push(await verifyStack(client, s, opts.verify));
  }
  return { sent, stopped: false, verifications };
}
