// One job: its state, attempts, lease, progress, error, parameters, result and event log, read again
// whenever its run moves; Retry and Cancel.
import { html, nothing } from '/vendor/lit-html/lit-html.js';
import { post, get } from './api.js';
import { bytes, count, errorBox, stateBadge, time } from './format.js';
import { jobProgress } from './run-page.js';

export function jobPage(runId, jobId) {
  const s = { data: undefined, error: undefined, busy: false, lastCounts: undefined };
  let ctx;
  let timer;

  const load = async () => {
    try {
      s.data = await get(`/api/jobs/${jobId}`);
      s.error = s.data.run.id === runId ? undefined : { message: `job ${jobId} belongs to run ${s.data.run.name}` };
    } catch (e) {
      s.error = e;
    }
    ctx.redraw();
  };

  const act = async (verb) => {
    s.busy = true;
    ctx.redraw();
    try {
      const r = await post(`/api/runs/${runId}/${verb}`, { ids: [jobId] });
      ctx.notify(r.changed.length ? (verb === 'retry' ? 'Queued again' : 'Cancelled') : `Nothing to ${verb}: the job is ${s.data.job.state} now`);
      await load();
    } catch (e) {
      ctx.notify(e.message, 'error');
    } finally {
      s.busy = false;
      ctx.redraw();
    }
  };

  return {
    title: () => s.data?.job.key ?? `Job ${jobId}`,
    async enter(c) {
      ctx = c;
      await load();
    },
    leave() {
      clearTimeout(timer);
    },
    live(c) {
      const status = c.runs.get(runId);
      const counts = status && JSON.stringify(status.counts);
      if (!counts || counts === s.lastCounts) return;
      s.lastCounts = counts;
      clearTimeout(timer);
      timer = setTimeout(load, 500);
    },
    view(c) {
      if (s.error && !s.data) return errorBox(s.error);
      if (!s.data) return html`<p class="muted">Loading the job…</p>`;
      const { job: j, run, events, eventsLeftOut } = s.data;
      const disabled = !c.unlocked || s.busy;
      const p = j.progress;
      return html`
        <nav class="crumbs" aria-label="Breadcrumb"><a href="/">Runs</a> › <a href=${`/runs/${run.id}`}>${run.name}</a> › <span>Job ${j.id}</span></nav>
        <h1 class="key-title">${j.key}</h1>
        <p>${stateBadge(j.state)} <span class="muted">${j.kind}</span></p>
        ${c.actions
          ? html`<div class="actions" role="group" aria-label="Actions">
            <button ?disabled=${disabled || !(j.state === 'error' || j.state === 'cancelled')} @click=${() => act('retry')}>Retry</button>
            <button ?disabled=${disabled || !(j.state === 'todo' || j.state === 'ongoing' || j.state === 'error')} @click=${() => act('cancel')}>Cancel</button>
            ${c.unlocked ? nothing : html`<span class="muted">Unlock actions with the token first.</span>`}
          </div>`
          : nothing}
        <dl class="facts">
          ${fact('Attempts', `${j.attempts} of ${j.maxAttempts}`)}
          ${fact('Progress', p ? `${jobProgress(j)}${p.bytesDone !== undefined ? ` · ${bytes(p.bytesDone)}${p.bytesTotal ? `/${bytes(p.bytesTotal)}` : ''}` : ''}` : '–')}
          ${fact('Worker', j.leaseOwner ? `${j.leaseOwner}, lease until ${time(j.leaseExpiresAt)}` : '–')}
          ${fact('Last heartbeat', time(j.heartbeatAt))}
          ${fact('Created', time(j.createdAt))}
          ${fact('Started', time(j.startedAt))}
          ${fact('Finished', time(j.finishedAt))}
          ${fact('Updated', time(j.updatedAt))}
        </dl>
        ${j.lastError ? html`<h2>Last error</h2><pre class="error-text">${j.lastError}</pre>` : nothing}
        <h2>Parameters</h2><pre class="json">${JSON.stringify(j.params, null, 2)}</pre>
        ${j.result !== null ? html`<h2>Result</h2><pre class="json">${JSON.stringify(j.result, null, 2)}</pre>` : nothing}
        <h2>Event log</h2>
        ${eventsLeftOut ? html`<p class="muted">The first ${count(eventsLeftOut)} event(s) are left out; <code>ferry jobs log ${j.id}</code> shows them all.</p>` : nothing}
        <div class="table-wrap"><table class="events">
          <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Message</th></tr></thead>
          <tbody>${events.map((e) => html`<tr><td class="time">${time(e.at)}</td><td><span class=${`badge event-${e.type}`}>${e.type}</span></td><td class="message">${e.message}</td></tr>`)}</tbody>
        </table></div>`;
    },
  };
}

function fact(label, value) {
  return html`<div><dt>${label}</dt><dd>${value}</dd></div>`;
}
