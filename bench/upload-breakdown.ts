// The breakdown of one traced `ferry cp` of a large file (bench/upload-trace.ts): where the wall
// time went (start-up, the parts, completing), and what each part spent in each step, summed over
// the parts and as a share of the parts' time, with how many parts were on the wire on average.
import { readFileSync } from 'node:fs';
import type { PartTiming } from '../src/storage/part-timings.ts';
import type { UploadTrace } from './upload-trace.ts';

export interface Breakdown {
  parts: number;
  /** Seconds from the process's start to its first part. */
  startup: number;
  /** Seconds from the first part's start to the last part's end. */
  parts_s: number;
  /** Seconds from the last part's end to the process's exit (complete, HEAD, close). */
  finish: number;
  /** Summed over the parts, seconds: [step, seconds]. */
  steps: [string, number][];
  /** Time-weighted mean of parts between their request's start and the server's answer, over the parts' span. */
  onTheWire: number;
  /** Mean throughput over the parts' span, MiB/s. */
  mibPerS: number;
  loopDelay: UploadTrace['loopDelay'];
}

export function readTrace(file: string): UploadTrace {
  return JSON.parse(readFileSync(file, 'utf8')) as UploadTrace;
}

export function breakdown(trace: UploadTrace): Breakdown | undefined {
  const ps = trace.parts;
  if (ps.length === 0) return undefined;
  const first = Math.min(...ps.map((p) => p.asked));
  const endOf = (p: PartTiming) => p.journaled ?? p.answered ?? p.crc;
  const last = Math.max(...ps.map(endOf));
  const sum = (f: (p: PartTiming) => number | undefined) => ps.reduce((s, p) => s + (f(p) ?? 0), 0) / 1000;
  const diff = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a - b);
  const steps: [string, number][] = [
    ['wait for a part buffer', sum((p) => p.granted - p.asked)],
    ['read the source', sum((p) => p.read - p.granted)],
    ['CRC32C', sum((p) => p.crc - p.read)],
    ['MD5', sum((p) => diff(p.md5, p.crc))],
    ['ready, waiting for its connection', sum((p) => diff(p.sending, p.md5))],
    ['send (to the last byte in the kernel)', sum((p) => diff(p.flushed, p.sending))],
    ['server, after the last byte', sum((p) => diff(p.answered, p.flushed))],
    ['journal the part', sum((p) => diff(p.journaled, p.answered))],
  ];
  const wire = sum((p) => diff(p.answered, p.sending));
  const bytes = ps.reduce((s, p) => s + p.bytes, 0);
  const span = (last - first) / 1000;
  return {
    parts: ps.length,
    startup: first / 1000,
    parts_s: span,
    finish: (trace.exitedAt - last) / 1000,
    steps,
    onTheWire: span > 0 ? wire / span : 0,
    mibPerS: span > 0 ? bytes / 2 ** 20 / span : 0,
    loopDelay: trace.loopDelay,
  };
}

/** The breakdown as markdown lines. */
export function formatBreakdown(title: string, b: Breakdown): string {
  const partTime = b.steps.reduce((s, [, v]) => s + v, 0);
  const lines = [
    `\n#### where ${title}'s time went (client side, per part)\n`,
    `start-up to the first part ${b.startup.toFixed(2)} s; parts ${b.parts_s.toFixed(2)} s (${b.parts} parts, ${b.mibPerS.toFixed(0)} MiB/s, ` +
      `${b.onTheWire.toFixed(1)} on the wire on average); complete + check + exit ${b.finish.toFixed(2)} s. ` +
      `Event loop held up: mean ${b.loopDelay.mean.toFixed(1)} ms, p99 ${b.loopDelay.p99.toFixed(0)} ms, max ${b.loopDelay.max.toFixed(0)} ms.\n`,
    '| step | part-seconds | share | per part ms |',
    '|---|---:|---:|---:|',
    ...b.steps.map(([step, s]) => `| ${step} | ${s.toFixed(2)} | ${((100 * s) / Math.max(partTime, 1e-9)).toFixed(0)}% | ${((1000 * s) / b.parts).toFixed(1)} |`),
  ];
  return lines.join('\n');
}
