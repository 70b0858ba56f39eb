// The `test.*` job kinds the runtime's tests run through real worker processes. Never imported by
// production code: a test's worker (local, or a Slurm / LSF array task, which inherits the
// environment) gets them with NODE_OPTIONS=--import=<this file> (TEST_KINDS_ENV below).
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FerryError } from '../errors.ts';
import { registerHandler } from '../runtime/registry.ts';

/** Environment that loads these kinds into every Ferry process started with it. */
export function testKindsEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const flag = `--import=${fileURLToPath(import.meta.url)}`;
  return { ...env, NODE_OPTIONS: [env.NODE_OPTIONS, flag].filter(Boolean).join(' ') };
}

interface SleepParams {
  ms: number;
  /** When set, every invocation appends "key attempt pid" to this file (the tests count them). */
  trace?: string;
  /** When set, the job ends only once this file exists: the test decides when it finishes. */
  gate?: string;
}

registerHandler<SleepParams>('test.sleep', {
  validate(p) {
    const v = p as Partial<SleepParams>;
    if (typeof v?.ms !== 'number' || v.ms < 0) throw new FerryError('test.sleep needs {"ms": a number >= 0}');
    return v as SleepParams;
  },
  async run(ctx, p) {
    if (p.trace) fs.appendFileSync(p.trace, `${ctx.key} ${ctx.attempt} ${process.pid}\n`);
    ctx.progress({ done: 0, total: 1, unit: 'files', bytesDone: 0, bytesTotal: 100 });
    await sleep(p.ms, undefined, { signal: ctx.signal });
    while (p.gate && !fs.existsSync(p.gate)) await sleep(20, undefined, { signal: ctx.signal });
    ctx.progress({ done: 1, total: 1, unit: 'files', bytesDone: 100, bytesTotal: 100 });
    return { slept: p.ms };
  },
});

registerHandler<{ message: string }>('test.fail', {
  async run(ctx, p) {
    await ctx.log(`about to fail on attempt ${ctx.attempt}`);
    throw new Error(p.message ?? 'test.fail failed as asked');
  },
});

registerHandler<{ count: number }>('test.validated', {
  validate(p) {
    const count = (p as { count?: unknown })?.count;
    if (!Number.isInteger(count) || (count as number) < 1) {
      throw new FerryError(`"count" must be a positive integer, got ${JSON.stringify(count)}`);
    }
    return { count: count as number };
  },
  async run(_ctx, p) {
    return { doubled: p.count * 2 };
  },
});
