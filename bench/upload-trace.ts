// Preloaded into a timed `ferry cp` by the transfer benchmark (node --import): collects the part
// timings the multipart upload publishes (src/storage/part-timings.ts) and how long the event loop
// was held up, and writes them as JSON to $FERRY_BENCH_TRACE when the process exits.
import diagnostics_channel from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PART_TIMINGS_CHANNEL } from '../src/storage/part-timings.ts';
import type { PartTiming } from '../src/storage/part-timings.ts';

export interface UploadTrace {
  parts: PartTiming[];
  /** performance.now() at exit: the process's whole life, start-up included (time origin = start). */
  exitedAt: number;
  /** Event-loop delay, ms: how long callbacks waited because the main thread was busy. */
  loopDelay: { mean: number; p99: number; max: number };
}

const out = process.env.FERRY_BENCH_TRACE;
if (out) {
  const parts: PartTiming[] = [];
  diagnostics_channel.subscribe(PART_TIMINGS_CHANNEL, (t) => parts.push(t as PartTiming));
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  process.on('exit', () => {
    delay.disable();
    const ms = (ns: number) => ns / 1e6;
    const trace: UploadTrace = {
      parts,
      exitedAt: performance.now(),
      loopDelay: { mean: ms(delay.mean), p99: ms(delay.percentile(99)), max: ms(delay.max) },
    };
    writeFileSync(out, JSON.stringify(trace));
  });
}
