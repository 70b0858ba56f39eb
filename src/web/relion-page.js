// A visit's RELION processing, as SynchWeb's buttons showed it: data collections with their
// processing jobs and each job's status; Start with the relion_it parameters and their defaults;
// "Stop and restart" in place of Start while a job of the collection is active; Stop per active job.
// Which of these a collection offers comes from the server (the RELION issue's rule).
import { html, nothing } from '/vendor/lit-html/lit-html.js';
import { get, post } from './api.js';
import { errorBox, time } from './format.js';

const RECENT_KEY = 'ferry-relion-visits';
/** The processing side changes records the ledger does not see: read the visit this often too. */
const REREAD_MS = 10_000;

const STATUS_CLASS = { submitted: 'state-todo', queued: 'state-todo', running: 'state-ongoing', success: 'state-success', failure: 'state-error' };

export function relionVisitsPage() {
  const recent = () => JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
  let ctx;
  return {
    title: () => 'RELION',
    enter(c) {
      ctx = c;
    },
    view() {
      const open = (e) => {
        e.preventDefault();
        const visit = new FormData(e.target).get('visit').trim();
        if (visit) ctx.navigate(`/relion/${encodeURIComponent(visit)}`);
      };
      return html`<h1>RELION processing</h1>
        <form class="inline-form" @submit=${open}>
          <label for="visit">Visit</label>
          <input id="visit" name="visit" required placeholder="e.g. cm28212-1" autocomplete="off">
          <button type="submit">Open</button>
        </form>
        ${recent().length ? html`<h2>Recent visits</h2><ul>${recent().map((v) => html`<li><a href=${`/relion/${encodeURIComponent(v)}`}>${v}</a></li>`)}</ul>` : nothing}`;
    },
  };
}

export function relionPage(visitName) {
  const s = { data: undefined, error: undefined, fields: undefined, form: undefined, formError: undefined, busy: false };
  let ctx;
  let timer;
  let lastMark;

  const load = async () => {
    try {
      const [data, form] = await Promise.all([get(`/api/relion/visits/${encodeURIComponent(visitName)}`), s.fields ? undefined : get('/api/relion/form')]);
      s.data = data;
      if (form) s.fields = form.fields;
      s.error = undefined;
      remember(data.visit.name);
    } catch (e) {
      s.error = e;
    }
    ctx.redraw();
    clearTimeout(timer);
    timer = setTimeout(load, REREAD_MS);
  };

  const openForm = (dc) => {
    s.form = {
      dc,
      imageDirectory: dc?.imageDirectory ?? '',
      fileTemplate: dc?.fileTemplate ?? '',
      stopAfterCtf: fieldDefault(s.fields, 'stop_after_ctf_estimation') === true,
      redraw: () => ctx.redraw(),
    };
    s.formError = undefined;
    ctx.redraw();
    document.getElementById('start-dialog')?.showModal();
  };

  const closeForm = () => {
    document.getElementById('start-dialog')?.close();
    s.form = undefined;
    ctx.redraw();
  };

  const start = async (e) => {
    e.preventDefault();
    const data = new FormData(e.target);
    const params = {};
    for (const f of s.fields) {
      if (f.kind === 'boolean') params[f.name] = data.get(f.name) === 'on';
      else {
        const v = String(data.get(f.name) ?? '').trim();
        if (v !== '') params[f.name] = f.kind === 'text' || (f.kind === 'choice' && typeof f.choices[0] === 'string') ? v : Number(v);
      }
    }
    const template = String(data.get('fileTemplate')).trim();
    if (!/\.eer$/i.test(template)) delete params.eer_grouping;
    s.busy = true;
    ctx.redraw();
    try {
      const r = await post('/api/relion/start', {
        visit: s.data.visit.name,
        imageDirectory: String(data.get('imageDirectory')).trim(),
        fileTemplate: template,
        params,
        stopAndRestart: Boolean(s.form.dc?.active),
      });
      ctx.notify(r.lines.join(' ') || 'Started');
      closeForm();
      await load();
    } catch (err) {
      s.formError = err;
    } finally {
      s.busy = false;
      ctx.redraw();
    }
  };

  const stop = async (job) => {
    if (!confirm(`Stop processing job ${job.processingJobId}?`)) return;
    s.busy = true;
    ctx.redraw();
    try {
      const r = await post('/api/relion/stop', { processingJobId: job.processingJobId });
      ctx.notify(r.lines.join(' ') || `Stopping processing job ${job.processingJobId}`);
      await load();
    } catch (err) {
      ctx.notify(err.message, 'error');
    } finally {
      s.busy = false;
      ctx.redraw();
    }
  };

  return {
    title: () => `RELION ${visitName}`,
    async enter(c) {
      ctx = c;
      await load();
    },
    leave() {
      clearTimeout(timer);
    },
    live(c, u) {
      // A start or stop through the relion recipe writes jobs to the ledger: read the visit again.
      if (lastMark && u.mark && u.mark.events !== lastMark.events) void load();
      lastMark = u.mark;
    },
    view(c) {
      const crumbs = html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/relion">RELION</a> › <span>${visitName}</span></nav>`;
      if (s.error && !s.data) return html`${crumbs}${errorBox(s.error)}`;
      if (!s.data) return html`${crumbs}<p class="muted">Loading the visit…</p>`;
      const v = s.data.visit;
      const canAct = c.actions && v.processingAllowed;
      const disabled = !c.unlocked || s.busy;
      return html`${crumbs}
        <h1>Visit ${v.name}</h1>
        <p class="muted">${v.beamLineName ?? ''} · ${time(v.startDate && Date.parse(v.startDate))} to ${time(v.endDate && Date.parse(v.endDate))}</p>
        ${v.processingAllowed ? nothing : html`<p class="notice notice-info">This visit ended more than 24 hours ago: processing can no longer be started from here.</p>`}
        ${s.error ? errorBox(s.error) : nothing}
        ${canAct ? html`<p><button ?disabled=${disabled} @click=${() => openForm(undefined)}>Process new movies…</button></p>` : nothing}
        <h2>Data collections</h2>
        ${s.data.collections.length === 0 ? html`<p class="muted">No RELION processing for this visit yet.</p>` : nothing}
        ${s.data.collections.map((dc) => collection(dc, { canAct, disabled, openForm, stop }))}
        ${c.actions ? startDialog(s, { start, closeForm }) : nothing}`;
    },
  };
}

function collection(dc, h) {
  return html`<section class="collection" data-dc=${dc.dataCollectionId} aria-labelledby=${`dc-${dc.dataCollectionId}`}>
    <header class="collection-head">
      <h3 id=${`dc-${dc.dataCollectionId}`}>Data collection ${dc.dataCollectionId}</h3>
      <code class="movies">${dc.imageDirectory ?? ''}${dc.fileTemplate ?? ''}</code>
      ${h.canAct
        ? html`<button class=${dc.active ? 'danger' : ''} ?disabled=${h.disabled} @click=${() => h.openForm(dc)}>${dc.active ? 'Stop and restart' : 'Start'}</button>`
        : nothing}
    </header>
    <div class="table-wrap"><table class="processing">
      <thead><tr><th scope="col" class="num">Processing job</th><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Message</th>
        <th scope="col">Recorded</th><th scope="col">Started</th><th scope="col">Ended</th>${h.canAct ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : nothing}</tr></thead>
      <tbody>${dc.jobs.map((j) => html`<tr data-processing-job=${j.processingJobId} data-status=${j.status}>
        <td class="num">${j.processingJobId}</td>
        <td>${j.displayName ?? ''}</td>
        <td><span class=${`badge ${STATUS_CLASS[j.status] ?? ''}`}>${j.status}</span></td>
        <td class="message">${j.message ?? ''}</td>
        <td class="time">${time(Date.parse(j.recordTime))}</td>
        <td class="time">${time(j.startTime && Date.parse(j.startTime))}</td>
        <td class="time">${time(j.endTime && Date.parse(j.endTime))}</td>
        ${h.canAct ? html`<td class="row-actions">${j.active ? html`<button class="small" ?disabled=${h.disabled} @click=${() => h.stop(j)} aria-label=${`Stop processing job ${j.processingJobId}`}>Stop</button>` : nothing}</td>` : nothing}
      </tr>`)}</tbody>
    </table></div>
  </section>`;
}

function startDialog(s, h) {
  const f = s.form;
  const restart = Boolean(f?.dc?.active);
  const main = (s.fields ?? []).filter((x) => !x.afterCtf);
  const particles = (s.fields ?? []).filter((x) => x.afterCtf);
  const eer = /\.eer$/i.test(f?.fileTemplate ?? '');
  return html`<dialog id="start-dialog" aria-labelledby="start-h" @close=${() => (s.form = undefined)}>
    ${f
      ? html`<form class="start-form" @submit=${h.start}>
      <h2 id="start-h">${restart ? `Stop and restart data collection ${f.dc.dataCollectionId}` : f.dc ? `Start data collection ${f.dc.dataCollectionId}` : 'Process new movies'}</h2>
      ${restart ? html`<p class="notice notice-info">Its active processing is stopped first, then a new job starts with these parameters.</p>` : nothing}
      <fieldset><legend>Movies</legend>
        <label>Image directory <input name="imageDirectory" required .value=${f.imageDirectory} ?readonly=${Boolean(f.dc)} placeholder="/dls/m12/data/2021/cm28212-1/raw/"></label>
        <label>File template <input name="fileTemplate" required .value=${f.fileTemplate} ?readonly=${Boolean(f.dc)} placeholder="GridSquare_*/Data/*.mrc"
          @input=${(e) => { f.fileTemplate = e.target.value; f.redraw(); }}></label>
      </fieldset>
      <fieldset><legend>Acquisition</legend>${main.filter((x) => !x.eerOnly || eer).map((x) => field(x, f))}</fieldset>
      <fieldset ?disabled=${f.stopAfterCtf}><legend>Particles (after CTF estimation)</legend>${particles.map((x) => field(x, f))}</fieldset>
      ${s.formError ? errorBox(s.formError) : nothing}
      <div class="dialog-actions">
        <button type="button" @click=${h.closeForm}>Cancel</button>
        <button type="submit" class=${restart ? 'danger' : 'primary'} ?disabled=${s.busy}>${restart ? 'Stop and restart' : 'Start'}</button>
      </div>
    </form>`
      : nothing}
  </dialog>`;
}

function field(x, f) {
  const req = x.required === 'always' || (x.required === 'after-ctf' && !f.stopAfterCtf);
  const label = html`<span class="field-label">${x.label}${req ? html`<span class="req" aria-hidden="true"> *</span>` : nothing}</span>`;
  if (x.kind === 'boolean') {
    const onChange = x.name === 'stop_after_ctf_estimation' ? (e) => { f.stopAfterCtf = e.target.checked; f.redraw(); } : undefined;
    return html`<label class="check-field"><input type="checkbox" name=${x.name} ?checked=${x.default === true} @change=${onChange}> ${label} <code class="muted">${x.name}</code></label>`;
  }
  if (x.kind === 'choice') {
    return html`<label>${label} <code class="muted">${x.name}</code>
      <select name=${x.name} ?required=${req}>
        ${x.default === undefined ? html`<option value="">${x.name === 'acquisition_software' ? 'from the file template' : '–'}</option>` : nothing}
        ${x.choices.map((c) => html`<option value=${c} ?selected=${c === x.default}>${c}</option>`)}
      </select></label>`;
  }
  return html`<label>${label} <code class="muted">${x.name}</code>
    <input name=${x.name} type=${x.kind === 'number' ? 'number' : 'text'} step="any" ?required=${req} .value=${x.default === undefined ? '' : String(x.default)}></label>`;
}

function fieldDefault(fields, name) {
  return fields?.find((x) => x.name === name)?.default;
}

function remember(visit) {
  const list = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]').filter((v) => v !== visit);
  localStorage.setItem(RECENT_KEY, JSON.stringify([visit, ...list].slice(0, 10)));
}
