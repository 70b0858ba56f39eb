// The ledger as the page sees it, read once for every open page: a change mark (three primary-key
// reads) every tick, and the status of only the runs whose jobs moved since; runs with jobs running
// are read again every few seconds for their progress (which writes no event), and every run now
// and then (rates decay with time). Workers anywhere (other processes on a SQLite file in WAL mode,
// other machines on PostgreSQL) show up here, since all this reads is the ledger itself.
import { errorMessage } from '../errors.ts';
import type { ChangeMark, Ledger, RunStatus } from '../ledger/ledger.ts';

export interface LiveUpdate {
  /** True when `runs` holds every run (a first read, or one after many changes). */
  full: boolean;
  runs: RunStatus[];
  mark: ChangeMark;
  /** Set while the ledger cannot be read; the page says so and keeps what it had. */
  error?: string;
}

export interface LiveOptions {
  /** How often the change mark is read (default 1 s); slower when reading takes long. */
  tickMs?: number;
  /** Runs with ongoing jobs are read again this often for their progress (default 5 s). */
  progressMs?: number;
  /** Every run is read again this often (default 60 s). */
  fullMs?: number;
}

/** Past this many new events, reading every run is cheaper than finding the ones they touch. */
const MANY_EVENTS = 50_000;

export class LedgerWatch {
  private readonly ledger: Ledger;
  private readonly tickMs: number;
  private readonly progressMs: number;
  private readonly fullMs: number;
  private readonly runs = new Map<number, RunStatus>();
  private readonly listeners = new Set<(u: LiveUpdate) => void>();
  private mark: ChangeMark | undefined;
  private lastFull = 0;
  private lastProgress = 0;
  private error: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private pending: Promise<void> | undefined;
  private closed = false;
  private readonly first: Promise<void>;

  constructor(ledger: Ledger, o: LiveOptions = {}) {
    this.ledger = ledger;
    this.tickMs = o.tickMs ?? 1000;
    this.progressMs = o.progressMs ?? 5000;
    this.fullMs = o.fullMs ?? 60_000;
    this.first = this.tick();
  }

  /** Every run as last read. */
  async snapshot(): Promise<LiveUpdate> {
    await this.first;
    return { full: true, runs: [...this.runs.values()].sort((a, b) => a.run.id - b.run.id), mark: this.mark ?? { runs: 0, events: 0, records: 0 }, error: this.error };
  }

  /** One run as last read (read now if the watch has not seen it yet). */
  async run(id: number): Promise<RunStatus | undefined> {
    await this.first;
    if (!this.runs.has(id)) await this.refresh();
    return this.runs.get(id);
  }

  subscribe(listener: (u: LiveUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads again now (after the page changed something, so that its user sees it at once). */
  refresh(): Promise<void> {
    this.pending ??= (async () => {
      await this.ticking;
      this.pending = undefined;
      await this.tick();
    })();
    return this.pending;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.listeners.clear();
  }

  private tick(): Promise<void> {
    clearTimeout(this.timer);
    const started = Date.now();
    this.ticking = this.read()
      .catch((e: unknown) => {
        const message = `cannot read the ledger at ${this.ledger.where}: ${errorMessage(e)}`;
        if (message !== this.error) this.emit({ full: false, runs: [], mark: this.mark ?? { runs: 0, events: 0, records: 0 }, error: message });
        this.error = message;
      })
      .finally(() => {
        this.ticking = undefined;
        // A ledger that takes long to read is read less often, so the page never keeps it busy.
        if (!this.closed) this.timer = setTimeout(() => void this.tick(), Math.max(this.tickMs, 2 * (Date.now() - started))).unref();
      });
    return this.ticking;
  }

  private async read(): Promise<void> {
    const now = Date.now();
    const mark = await this.ledger.changeMark();
    const prev = this.mark;
    let ids: number[] | 'all';
    if (!prev || mark.runs !== prev.runs || now - this.lastFull >= this.fullMs || mark.events - prev.events > MANY_EVENTS) ids = 'all';
    else {
      const touched = new Set(mark.events !== prev.events ? await this.ledger.runsWithEventsAfter(prev.events) : []);
      if (now - this.lastProgress >= this.progressMs) {
        this.lastProgress = now;
        for (const s of this.runs.values()) if (s.counts.ongoing > 0) touched.add(s.run.id);
      }
      ids = [...touched];
    }
    const statuses = ids === 'all' ? await this.ledger.status() : ids.length ? await this.ledger.status({ runIds: ids }) : [];
    if (ids === 'all') {
      this.lastFull = now;
      this.lastProgress = now;
      this.runs.clear();
    }
    for (const s of statuses) this.runs.set(s.run.id, s);
    const recovered = this.error !== undefined;
    this.error = undefined;
    this.mark = mark;
    if (statuses.length || recovered || !prev || mark.records !== prev.records) this.emit({ full: ids === 'all', runs: statuses, mark });
  }

  private emit(u: LiveUpdate): void {
    for (const l of this.listeners) l(u);
  }
}
