// How a command talks to its user: `--json` prints one JSON object a line on stdout for scripts;
// otherwise human text on stdout, and progress on stderr (a redrawn bar on a terminal, a plain line
// every few seconds when stderr is a file or a pipe, so cluster logs stay readable).

export interface ProgressCounts {
  /** What is being counted first: files, jobs, chunks... */
  unit: string;
  done: number;
  total?: number;
  bytesDone?: number;
  bytesTotal?: number;
  failed?: number;
  /** Said last: what is under way (the progress of a worker's running jobs). */
  detail?: string;
}

export class Output {
  readonly json: boolean;
  readonly tty: boolean;
  private progressTimer: NodeJS.Timeout | undefined;
  private progressStart = 0;
  private lastDrawn = '';

  constructor(opts: { json?: boolean; tty?: boolean } = {}) {
    this.json = opts.json ?? false;
    this.tty = opts.tty ?? Boolean(process.stderr.isTTY);
  }

  /** A line of human text (ignored in --json mode). */
  line(text = ''): void {
    if (this.json) return;
    this.clearProgress();
    process.stdout.write(text + '\n');
  }

  /** A machine event; in human mode nothing (pair it with line()). */
  event(type: string, fields: Record<string, unknown> = {}): void {
    if (!this.json) return;
    process.stdout.write(JSON.stringify({ type, ...fields }) + '\n');
  }

  /** A warning to stderr in both modes, so scripts see it without parsing stdout. */
  warn(text: string): void {
    this.clearProgress();
    process.stderr.write(`ferry: ${text}\n`);
  }

  /** Aligned columns; the first row is the header. */
  table(rows: (string | number)[][]): void {
    if (this.json || rows.length === 0) return;
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
    for (const r of rows) {
      this.line(r.map((c, i) => (typeof c === 'number' ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ').trimEnd());
    }
  }

  /**
   * Starts reporting progress from `read()` until the returned stop function is called. On a
   * terminal it redraws a line 5 times a second; otherwise it prints a line every `plainEveryMs`.
   */
  startProgress(read: () => ProgressCounts, plainEveryMs = 10_000): () => void {
    this.progressStart = Date.now();
    const every = this.json ? 2_000 : this.tty ? 200 : plainEveryMs;
    this.progressTimer = setInterval(() => {
      const c = read();
      if (this.json) this.event('progress', { ...c, elapsedSeconds: (Date.now() - this.progressStart) / 1000 });
      else if (this.tty) this.draw(formatProgress(c, Date.now() - this.progressStart));
      else process.stderr.write(formatProgress(c, Date.now() - this.progressStart) + '\n');
    }, every);
    this.progressTimer.unref();
    return () => {
      clearInterval(this.progressTimer);
      this.progressTimer = undefined;
      this.clearProgress();
    };
  }

  private draw(text: string): void {
    const width = process.stderr.columns ?? 100;
    const t = text.length > width - 1 ? text.slice(0, width - 1) : text;
    process.stderr.write('\r' + t.padEnd(this.lastDrawn.length) + '\r' + t);
    this.lastDrawn = t;
  }

  private clearProgress(): void {
    if (!this.tty || !this.lastDrawn) return;
    process.stderr.write('\r' + ' '.repeat(this.lastDrawn.length) + '\r');
    this.lastDrawn = '';
  }
}

export function formatProgress(c: ProgressCounts, elapsedMs: number): string {
  const secs = Math.max(elapsedMs / 1000, 0.001);
  const parts: string[] = [];
  const pct = c.total ? ` (${((100 * c.done) / c.total).toFixed(1)}%)` : '';
  parts.push(`${c.done}${c.total !== undefined ? '/' + c.total : ''} ${c.unit}${pct}`);
  if (c.bytesDone !== undefined) {
    parts.push(`${formatBytes(c.bytesDone)}${c.bytesTotal !== undefined ? '/' + formatBytes(c.bytesTotal) : ''}`);
    parts.push(`${formatBytes(c.bytesDone / secs)}/s`);
  }
  const rate = c.done / secs;
  parts.push(`${rate.toFixed(rate < 10 ? 1 : 0)} ${c.unit}/s`);
  if (c.failed) parts.push(`${c.failed} failed`);
  const eta = etaSeconds(c, secs);
  if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
  if (c.detail) parts.push(c.detail);
  return parts.join(', ');
}

function etaSeconds(c: ProgressCounts, secs: number): number | undefined {
  if (c.bytesTotal && c.bytesDone) return ((c.bytesTotal - c.bytesDone) * secs) / c.bytesDone;
  if (c.total && c.done) return ((c.total - c.done) * secs) / c.done;
  return undefined;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n.toFixed(0) : n.toFixed(1)} ${units[i]}`;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "running: 2/4 slabs" for up to three running jobs; "running: 12 jobs" beyond. */
export function runningDetail(running: ({ done: number; total?: number; unit: string } | undefined)[]): string | undefined {
  if (running.length === 0) return undefined;
  if (running.length > 3) return `running: ${running.length} jobs`;
  return `running: ${running.map((p) => (p ? `${p.done}${p.total !== undefined ? `/${p.total}` : ''} ${p.unit}` : 'starting')).join('; ')}`;
}
