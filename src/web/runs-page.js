// Every run of every workflow: counts by state, progress, rate and ETA, as the stream updates them.
import { html } from '/vendor/lit-html/lit-html.js';
import { repeat } from '/vendor/lit-html/directives/repeat.js';
import { count, eta, progressBar, rate, unitsLine } from './format.js';

export function runsPage() {
  return {
    title: () => 'Runs',
    view(ctx) {
      const runs = [...ctx.runs.values()].sort((a, b) => b.run.id - a.run.id);
      return html`<h1>Runs</h1>
        ${runs.length === 0
          ? html`<p class="muted">${ctx.live === 'live' ? 'No runs in this ledger yet: plan some work with a ferry command.' : 'Reading the ledger…'}</p>`
          : html`<div class="table-wrap"><table class="runs">
          <thead><tr>
            <th scope="col">Run</th><th scope="col">Workflow</th><th scope="col" class="progress-col">Progress</th>
            <th scope="col" class="num">Jobs</th><th scope="col" class="num">To do</th><th scope="col" class="num">Running</th>
            <th scope="col" class="num">Done</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Cancelled</th>
            <th scope="col">Files and bytes</th><th scope="col" class="num">Rate</th><th scope="col" class="num">ETA</th>
          </tr></thead>
          <tbody>${repeat(runs, (s) => s.run.id, (s) => row(s))}</tbody>
        </table></div>`}`;
    },
  };
}

function row(s) {
  const c = s.counts;
  return html`<tr data-run=${s.run.id}>
    <th scope="row"><a href=${`/runs/${s.run.id}`}>${s.run.name}</a></th>
    <td>${s.run.labels.recipe ?? '–'}</td>
    <td class="progress-col">${progressBar(c, `Progress of ${s.run.name}`)}</td>
    <td class="num" data-count="total">${count(c.total)}</td>
    <td class="num" data-count="todo">${count(c.todo)}</td>
    <td class="num" data-count="ongoing">${count(c.ongoing)}</td>
    <td class="num" data-count="success">${count(c.success)}</td>
    <td class=${`num${c.error ? ' text-error' : ''}`} data-count="error">${count(c.error)}</td>
    <td class="num" data-count="cancelled">${count(c.cancelled)}</td>
    <td class="units">${unitsLine(s) || '–'}</td>
    <td class="num">${rate(s.rate)}</td>
    <td class="num">${eta(s)}</td>
  </tr>`;
}
