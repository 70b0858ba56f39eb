// One run: its counts as they change, its workflow's report and view, and its jobs a page at a time
// (filtered by state, searched by key) with Retry and Cancel for one job, a selection, or the run.
import { html, nothing } from '/vendor/lit-html/lit-html.js';
import { live } from '/vendor/lit-html/directives/live.js';
import { repeat } from '/vendor/lit-html/directives/repeat.js';
import { get, post, query } from './api.js';
import { STATES, STATE_LABELS, count, errorBox, eta, progressBar, rate, shortTime, stateBadge, time, unitsLine } from './format.js';
import { workflowView } from './workflow-views.js';

const PAGE = 50;
/** At most one page read a second while counts move. */
const REFRESH_MS = 1000;

export function runPage(runId) {
  const s = {
    info: undefined,
    error: undefined,
    report: undefined,
    reportError: undefined,
    state: '',
    q: '',
    /** `after` of each page before this one. */
    cursors: [],
    after: undefined,
    page: undefined,
    pageError: undefined,
    selected: new Set(),
    busy: false,
    lastCounts: undefined,
  };
  let ctx;
  let timer;
  let loading;
  let again = false;
  let searchTimer;

  const loadPage = async () => {
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      try {
        s.page = await get(`/api/runs/${runId}/jobs${query({ state: s.state, q: s.q, after: s.after, limit: PAGE })}`);
        s.pageError = undefined;
        const onPage = new Set(s.page.jobs.map((j) => j.id));
        for (const id of s.selected) if (!onPage.has(id)) s.selected.delete(id);
      } catch (e) {
        s.pageError = e;
      }
      ctx.redraw();
    })();
    await loading;
    loading = undefined;
    if (again) {
      again = false;
      await loadPage();
    }
  };

  const loadReport = async () => {
    try {
      s.report = await get(`/api/runs/${runId}/report`);
      s.reportError = undefined;
    } catch (e) {
      s.reportError = e;
    }
    ctx.redraw();
  };

  const refreshSoon = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void loadPage();
    }, REFRESH_MS);
  };

  const act = async (verb, body, done) => {
    s.busy = true;
    ctx.redraw();
    try {
      const r = await post(`/api/runs/${runId}/${verb}`, body);
      ctx.notify(`${verb === 'retry' ? 'Queued again' : 'Cancelled'}: ${count(r.changed.length)} job(s)`);
      s.selected.clear();
      done?.();
      await loadPage();
    } catch (e) {
      ctx.notify(e.message + (e.hint ? ` (${e.hint})` : ''), 'error');
    } finally {
      s.busy = false;
      ctx.redraw();
    }
  };

  const filter = (state) => {
    s.state = state;
    s.cursors = [];
    s.after = undefined;
    void loadPage();
  };

  const search = (e) => {
    s.q = e.target.value;
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      s.cursors = [];
      s.after = undefined;
      void loadPage();
    }, 250);
  };

  const next = () => {
    s.cursors.push(s.after);
    s.after = s.page.next;
    void loadPage();
  };
  const previous = () => {
    s.after = s.cursors.pop();
    void loadPage();
  };
  const first = () => {
    s.cursors = [];
    s.after = undefined;
    void loadPage();
  };

  const toggle = (id, on) => {
    if (on) s.selected.add(id);
    else s.selected.delete(id);
    ctx.redraw();
  };

  return {
    title: () => s.info?.status?.run.name ?? 'Run',
    async enter(c) {
      ctx = c;
      try {
        s.info = await get(`/api/runs/${runId}`);
        s.lastCounts = JSON.stringify(s.info.status.counts);
      } catch (e) {
        s.error = e;
      }
      ctx.redraw();
      if (!s.error) await Promise.all([loadPage(), loadReport()]);
    },
    leave() {
      clearTimeout(timer);
      clearTimeout(searchTimer);
    },
    live(c, u) {
      const status = c.runs.get(runId);
      if (!status || !s.info) return;
      const counts = JSON.stringify(status.counts);
      const changed = counts !== s.lastCounts;
      const finishedNow = changed && status.counts.todo + status.counts.ongoing === 0;
      s.lastCounts = counts;
      if (changed) refreshSoon();
      // A report sums the run up: read it again once the run has nothing left to do, and when
      // workflow records were written (a FIB-SEM check again).
      if (finishedNow || (u.mark && s.mark && u.mark.records !== s.mark.records)) void loadReport();
      s.mark = u.mark;
    },
    view(c) {
      if (s.error) return html`<p><a href="/">All runs</a></p>${errorBox(s.error)}`;
      if (!s.info) return html`<p class="muted">Loading the run…</p>`;
      const status = c.runs.get(runId) ?? s.info.status;
      const run = status.run;
      const view = workflowView(s.info, s.report, c);
      return html`
        <nav class="crumbs" aria-label="Breadcrumb"><a href="/">Runs</a> › <span>${run.name}</span></nav>
        <header class="run-head">
          <h1>${run.name}</h1>
          <p class="muted">${s.info.title ?? run.labels.recipe ?? ''}</p>
          ${labels(run.labels)}
        </header>
        ${status.counts.total ? summary(status) : nothing}
        ${view}
        ${reportSection(s, loadReport, view !== nothing)}
        <section aria-labelledby="jobs-h">
          <h2 id="jobs-h">Jobs</h2>
          ${toolbar(s, status, c, { filter, search, act })}
          ${s.pageError ? errorBox(s.pageError) : nothing}
          ${s.page ? jobsTable(s, runId, c, { act, toggle }) : html`<p class="muted">Loading jobs…</p>`}
          ${s.page ? pager(s, { first, previous, next }) : nothing}
        </section>`;
    },
  };
}

function labels(l) {
  const shown = Object.entries(l).filter(([k]) => k !== 'recipe' && k !== 'identity');
  if (shown.length === 0) return nothing;
  return html`<dl class="labels">${shown.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`;
}

function summary(status) {
  const c = status.counts;
  const units = unitsLine(status);
  return html`<section class="summary" aria-label="Progress">
    <div class="summary-bar">${progressBar(c, `Progress of ${status.run.name}`)}</div>
    <dl class="cards">
      ${['total', ...STATES].map((k) => html`<div class=${`card card-${k}`}><dt>${k === 'total' ? 'Jobs' : STATE_LABELS[k]}</dt><dd class="num" data-count=${k}>${count(c[k])}</dd></div>`)}
      <div class="card"><dt>Rate</dt><dd class="num">${rate(status.rate)}</dd></div>
      <div class="card"><dt>ETA</dt><dd class="num">${eta(status)}</dd></div>
    </dl>
    ${units ? html`<p class="units">${units}</p>` : nothing}
  </section>`;
}

/** The recipe's report; folded away under a workflow view, which shows the same more richly. */
function reportSection(s, reload, folded) {
  if (s.reportError) return html`<section class="report" aria-label="Report">${errorBox(s.reportError)}</section>`;
  if (!s.report) return html`<section class="report muted" aria-label="Report">Summing the run up…</section>`;
  const r = s.report;
  const badge = html`<span class=${`badge ${r.ok ? 'state-success' : 'state-error'}`}>${r.ok ? 'complete' : 'not complete'}</span>`;
  const lines = html`<pre class="report-lines">${r.lines.join('\n')}</pre>`;
  if (folded) return html`<details class="report"><summary>Report as the command line prints it ${badge}</summary>${lines}</details>`;
  return html`<section class="report" aria-labelledby="report-h">
    <h2 id="report-h">Report ${badge} <button class="link" @click=${reload}>Refresh</button></h2>
    ${lines}
  </section>`;
}

function toolbar(s, status, c, h) {
  const c2 = status.counts;
  const failed = c2.error + c2.cancelled;
  const unfinished = c2.todo + c2.ongoing + c2.error;
  const chip = (state, label, n) =>
    html`<button class="chip ${state ? `chip-${state}` : ''}" aria-pressed=${s.state === state ? 'true' : 'false'} @click=${() => h.filter(state)}>${label} <span class="num">${count(n)}</span></button>`;
  const disabled = !c.unlocked || s.busy;
  const why = c.unlocked ? '' : 'Unlock actions with the token first';
  return html`<div class="toolbar">
    <div class="chips" role="group" aria-label="Show jobs by state">
      ${chip('', 'All', c2.total)}${STATES.map((st) => chip(st, STATE_LABELS[st], c2[st]))}
    </div>
    <label class="search"><span>Search keys</span>
      <input type="search" .value=${live(s.q)} @input=${h.search} placeholder="part of a key" aria-describedby="search-note"></label>
    <span id="search-note" class="visually-hidden">Shows the jobs whose key holds this text, ignoring case</span>
    ${c.actions
      ? html`<div class="actions" role="group" aria-label="Actions">
        <button ?disabled=${disabled || s.selected.size === 0} title=${why} @click=${() => h.act('retry', { ids: [...s.selected] })}>Retry selected (${s.selected.size})</button>
        <button ?disabled=${disabled || s.selected.size === 0} title=${why} @click=${() => h.act('cancel', { ids: [...s.selected] })}>Cancel selected (${s.selected.size})</button>
        <button ?disabled=${disabled || failed === 0} title=${why} @click=${() => h.act('retry', { all: true })}>Retry failed and cancelled (${count(failed)})</button>
        <button class="danger" ?disabled=${disabled || unfinished === 0} title=${why}
          @click=${() => confirm(`Cancel all ${count(unfinished)} unfinished job(s) of ${status.run.name}?`) && h.act('cancel', { all: true })}>Cancel all unfinished</button>
      </div>`
      : nothing}
  </div>`;
}

function jobsTable(s, runId, c, h) {
  const jobs = s.page.jobs;
  if (jobs.length === 0) return html`<p class="muted">No jobs${s.state ? ` in state ${STATE_LABELS[s.state]}` : ''}${s.q ? html` whose key holds “${s.q}”` : ''}.</p>`;
  const all = jobs.every((j) => s.selected.has(j.id));
  const disabled = !c.unlocked || s.busy;
  return html`<div class="table-wrap"><table class="jobs">
    <thead><tr>
      ${c.actions ? html`<th scope="col" class="check"><input type="checkbox" aria-label="Select every job on this page" .checked=${live(all)}
        @change=${(e) => { for (const j of jobs) h.toggle(j.id, e.target.checked); }}></th>` : nothing}
      <th scope="col" class="num">ID</th><th scope="col">Key</th><th scope="col">Kind</th><th scope="col">State</th>
      <th scope="col" class="num">Attempts</th><th scope="col">Progress</th><th scope="col">Updated</th><th scope="col">Last error</th>
      ${c.actions ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : nothing}
    </tr></thead>
    <tbody>${repeat(jobs, (j) => j.id, (j) => html`<tr data-job=${j.id} data-state=${j.state}>
      ${c.actions ? html`<td class="check"><input type="checkbox" aria-label=${`Select job ${j.id}`} .checked=${live(s.selected.has(j.id))} @change=${(e) => h.toggle(j.id, e.target.checked)}></td>` : nothing}
      <td class="num">${j.id}</td>
      <td class="key"><a href=${`/runs/${runId}/jobs/${j.id}`}>${j.key}</a></td>
      <td>${j.kind}</td>
      <td>${stateBadge(j.state)}</td>
      <td class="num">${j.attempts}/${j.maxAttempts}</td>
      <td class="units">${jobProgress(j)}</td>
      <td class="time" title=${time(j.updatedAt)}>${shortTime(j.updatedAt)}</td>
      <td class="error-cell" title=${j.lastError ?? ''}>${firstLine(j.lastError)}</td>
      ${c.actions
        ? html`<td class="row-actions">
          ${j.state === 'error' || j.state === 'cancelled' ? html`<button class="small" ?disabled=${disabled} @click=${() => h.act('retry', { ids: [j.id] })} aria-label=${`Retry job ${j.id}`}>Retry</button>` : nothing}
          ${j.state === 'todo' || j.state === 'ongoing' || j.state === 'error' ? html`<button class="small" ?disabled=${disabled} @click=${() => h.act('cancel', { ids: [j.id] })} aria-label=${`Cancel job ${j.id}`}>Cancel</button>` : nothing}
        </td>`
        : nothing}
    </tr>`)}</tbody>
  </table></div>`;
}

function pager(s, h) {
  const n = s.cursors.length;
  return html`<div class="pager" role="group" aria-label="Pages">
    <button ?disabled=${n === 0} @click=${h.first}>First</button>
    <button ?disabled=${n === 0} @click=${h.previous}>Previous</button>
    <span class="muted">Page ${n + 1}</span>
    <button ?disabled=${s.page.next === null} @click=${h.next}>Next</button>
  </div>`;
}

export function jobProgress(j) {
  const p = j.progress;
  if (!p) return '–';
  return `${count(p.done)}${p.total !== undefined ? `/${count(p.total)}` : ''} ${p.unit}`;
}

function firstLine(s) {
  if (!s) return '';
  const line = s.split('\n')[0];
  return line.length > 120 ? `${line.slice(0, 117)}…` : line;
}
