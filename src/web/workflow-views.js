// Views for runs where a table of jobs is not enough, drawn from what the recipe's report and the
// run say: a FIB-SEM tab check (the check_tabs table, what is missing, unarchived or non-standard,
// first / last / count against what the operator expected), and a volume with a link that opens
// it in Neuroglancer, served by Ferry itself.
import { html, nothing } from '/vendor/lit-html/lit-html.js';
import { count } from './format.js';

/** Names listed in full up to this many; the rest are counted. */
const LIST_MAX = 500;

export function workflowView(info, report, ctx) {
  if (info.volume) return volumeView(info, ctx);
  if (report?.data?.report?.counts && 'missingDat' in report.data.report) return fibsemCheckView(report.data);
  return nothing;
}

function fibsemCheckView(check) {
  const r = check.report;
  const c = r.counts;
  const lists = [
    ['Missing InLens PNG', r.missingInLensPng],
    ['Missing .dat', r.missingDat],
    ['Unarchived .dat', r.unarchivedDat],
    ['Non-standard .dat', r.nonStandardDat],
  ];
  const compared = (label, cmp) => html`<tr>
    <th scope="row">${label}</th>
    <td class="mono">${cmp.actual ?? '(none)'}</td>
    <td class="mono">${cmp.expected ?? '–'}</td>
    <td>${cmp.ok === undefined ? html`<span class="muted">nothing expected</span>` : cmp.ok ? html`<span class="badge state-success">as expected</span>` : html`<span class="badge state-error">mismatch</span>`}</td>
  </tr>`;
  return html`<section class="workflow fibsem-check" aria-labelledby="check-h">
    <h2 id="check-h">Tab ${check.tab}: transfer check <span class=${`badge ${r.complete ? 'state-success' : 'state-error'}`}>${r.complete ? 'complete' : 'not complete'}</span></h2>
    <p class="muted">Scope listing from ${check.scopeSource}${check.scopeDays?.length ? ` (days ${check.scopeDays.join(', ')})` : ''}.</p>
    <div class="table-wrap"><table class="stages">
      <thead><tr><th scope="col" class="num">InLens PNG</th><th scope="col" class="num">Transferred .dat</th><th scope="col" class="num">Archived .dat</th><th scope="col" class="num">Scope .dat</th><th scope="col" class="num">Logs</th></tr></thead>
      <tbody><tr>
        <td class="num">${count(c.inLensPng)}</td><td class="num">${count(c.transferredDat)}</td><td class="num">${count(c.archivedDat)}</td>
        <td class="num">${count(c.scopeDat)}</td><td class="num">${count(c.logs)}</td>
      </tr></tbody>
    </table></div>
    <div class="problem-lists">
      ${lists.map(([label, names]) => html`<details class=${names.length ? 'has-problems' : ''} ?open=${names.length > 0 && names.length <= 20}>
        <summary><span class="num">${count(names.length)}</span> ${label}</summary>
        ${names.length ? html`<ul class="names">${names.slice(0, LIST_MAX).map((n) => html`<li>${n}</li>`)}</ul>${names.length > LIST_MAX ? html`<p class="muted">and ${count(names.length - LIST_MAX)} more</p>` : nothing}` : html`<p class="muted">none</p>`}
      </details>`)}
    </div>
    <div class="table-wrap"><table class="expected">
      <thead><tr><th scope="col"></th><th scope="col">Found (archive)</th><th scope="col">Expected</th><th scope="col"></th></tr></thead>
      <tbody>${compared('First .dat', r.firstDat)}${compared('Last .dat', r.lastDat)}${compared('.dat count', r.datCount)}</tbody>
    </table></div>
    ${check.ignoredListingLines?.length ? html`<details><summary>${count(check.ignoredListingLines.length)} scope listing line(s) ignored</summary><ul class="names">${check.ignoredListingLines.slice(0, LIST_MAX).map((l) => html`<li>${l}</li>`)}</ul></details>` : nothing}
  </section>`;
}

function volumeView(info, ctx) {
  const data = new URL(info.volume.data, location.origin).href.replace(/\/$/, '');
  const source = `precomputed://${data}`;
  // The layer type from the volume's own info file, once the page has read it.
  const state = { layers: [{ type: info.volume.type ?? 'image', source, name: info.status.run.name }], layout: '4panel' };
  const fragment = `#!${encodeURIComponent(JSON.stringify(state))}`;
  return html`<section class="workflow volume" aria-labelledby="volume-h">
    <h2 id="volume-h">Volume</h2>
    ${info.volume.ready ? nothing : html`<p class="muted">The volume's info file is not written yet: it is, with the last task of the run.</p>`}
    <p>
      ${ctx.session.neuroglancer
        ? html`<a class="button" href=${`/neuroglancer/${fragment}`} target="_blank" rel="noopener">Open in Neuroglancer</a>`
        : html`<a class="button" href=${`https://neuroglancer-demo.appspot.com/${fragment}`} target="_blank" rel="noopener noreferrer">Open in the public Neuroglancer</a>
          <span class="muted">(needs the internet; start <code>ferry serve --neuroglancer DIR</code> with a local Neuroglancer build to view it offline)</span>`}
    </p>
    <p>Neuroglancer source: <code class="copy">${source}</code></p>
  </section>`;
}
