// Numbers, sizes, times and the shared pieces of markup (state badges, progress bars). Everything
// is drawn with lit-html, which puts values in as text or attribute values, never as markup: a file
// name, job key or log line shows exactly as it is.
import { html, nothing, svg } from '/vendor/lit-html/lit-html.js';

export const STATES = ['todo', 'ongoing', 'success', 'error', 'cancelled'];
export const STATE_LABELS = { todo: 'To do', ongoing: 'Running', success: 'Done', error: 'Failed', cancelled: 'Cancelled' };

const numberFormat = new Intl.NumberFormat('en-US');

export function count(n) {
  return n === undefined || n === null ? '–' : numberFormat.format(n);
}

export function bytes(n) {
  if (!n) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  const i = Math.min(units.length - 1, Math.floor(Math.log2(n) / 10));
  const v = n / 2 ** (10 * i);
  return `${v.toFixed(v < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 1) return '<1 s';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

export function rate(perSecond) {
  if (!perSecond) return '–';
  const perMinute = perSecond * 60;
  return perMinute >= 10 ? `${count(Math.round(perMinute))}/min` : `${perMinute.toFixed(1)}/min`;
}

/** Local time, to the second: 2024-05-01 14:03:09. */
export function time(ms) {
  if (ms === null || ms === undefined) return '–';
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The time of day for today's times, the date and time otherwise: for dense tables. */
export function shortTime(ms) {
  if (ms === null || ms === undefined) return '–';
  const full = time(ms);
  return full.slice(0, 10) === time(Date.now()).slice(0, 10) ? full.slice(11) : full;
}

export function eta(status) {
  const left = status.counts.todo + status.counts.ongoing;
  if (left === 0) return status.counts.total ? 'finished' : '–';
  return status.etaSeconds === null ? '–' : duration(status.etaSeconds);
}

export function stateBadge(state) {
  return html`<span class="badge state-${state}">${STATE_LABELS[state] ?? state}</span>`;
}

/**
 * Finished (done, failed, cancelled) and running shares of a run, as one bar. Drawn in SVG: its
 * widths are attributes, which the page's strict Content-Security-Policy allows, unlike styles.
 */
export function progressBar(counts, label) {
  const total = counts.total || 0;
  const pct = (n) => (total ? (100 * n) / total : 0);
  const finished = counts.success + counts.error + counts.cancelled;
  let x = 0;
  const segments = ['success', 'error', 'cancelled', 'ongoing'].map((s) => {
    const w = pct(counts[s]);
    const seg = w ? svg`<rect class=${`seg state-${s}`} x=${x} y="0" width=${w} height="1"></rect>` : nothing;
    x += w;
    return seg;
  });
  return html`<span class="bar-wrap"><svg class="bar" viewBox="0 0 100 1" preserveAspectRatio="none" role="progressbar" aria-label=${label}
      aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.floor(pct(counts.success))}>
    <title>${`${count(counts.success)} done, ${count(counts.error)} failed, ${count(counts.cancelled)} cancelled, ${count(counts.ongoing)} running of ${count(total)}`}</title>
    <rect class="track" x="0" y="0" width="100" height="1"></rect>${segments}</svg><span class="bar-pct num">${total ? `${Math.floor(pct(finished))}%` : ''}</span></span>`;
}

/** "1,204/3,000 files · 1.2 GiB/3.4 GiB": the run's own progress units, when its jobs report them. */
export function unitsLine(status) {
  const parts = status.progress.map((p) => `${count(p.done)}/${count(p.total)} ${p.unit}`);
  if (status.bytes.total || status.bytes.done) parts.push(`${bytes(status.bytes.done)}/${bytes(status.bytes.total)}`);
  return parts.join(' · ');
}

export function errorBox(e) {
  if (!e) return nothing;
  return html`<div class="error-box" role="alert"><strong>${e.message}</strong>${e.hint ? html`<div class="muted">${e.hint}</div>` : nothing}</div>`;
}
