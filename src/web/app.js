// The page: routes addresses to views, keeps the runs as the server's event stream last sent them
// (no reload, no polling: the stream says what changed), and redraws the current view with lit-html,
// which patches only what differs.
import { html, nothing, render } from '/vendor/lit-html/lit-html.js';
import { adoptTokenFromAddress, get, setToken, token } from './api.js';
import { jobPage } from './job-page.js';
import { relionPage, relionVisitsPage } from './relion-page.js';
import { runPage } from './run-page.js';
import { runsPage } from './runs-page.js';

const ROUTES = [
  [/^\/$/, () => runsPage()],
  [/^\/runs\/(\d+)$/, (m) => runPage(Number(m[1]))],
  [/^\/runs\/(\d+)\/jobs\/(\d+)$/, (m) => jobPage(Number(m[1]), Number(m[2]))],
  [/^\/relion$/, () => relionVisitsPage()],
  [/^\/relion\/([^/]+)$/, (m) => relionPage(decodeURIComponent(m[1]))],
];

/** What every view reads: the session, the runs as last streamed, and how to act. */
const ctx = {
  session: { readOnly: true },
  runs: new Map(),
  mark: undefined,
  live: 'connecting',
  liveError: undefined,
  /** The token is known: state-changing buttons work. */
  get unlocked() {
    return !this.session.readOnly && Boolean(token());
  },
  /** Buttons are drawn at all (never when read-only). */
  get actions() {
    return !this.session.readOnly;
  },
  navigate,
  redraw,
  notify,
};

let page;
let noticeTimer;

function notify(message, kind = 'info') {
  const box = document.getElementById('notice');
  render(message ? html`<div class=${`notice notice-${kind}`}>${message}</div>` : nothing, box);
  clearTimeout(noticeTimer);
  if (message && kind !== 'error') noticeTimer = setTimeout(() => notify(''), 6000);
}

function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route();
}

function route() {
  page?.leave?.();
  const path = location.pathname;
  for (const [re, make] of ROUTES) {
    const m = re.exec(path);
    if (m) {
      page = make(m);
      break;
    }
  }
  if (!page || !ROUTES.some(([re]) => re.test(path))) page = { title: 'Not found', view: () => html`<h1>Not found</h1><p><a href="/">All runs</a></p>` };
  redraw();
  void page.enter?.(ctx);
  document.getElementById('main').focus({ preventScroll: true });
}

function redraw() {
  render(page.view(ctx), document.getElementById('main'));
  document.title = `${page.title?.(ctx) ?? 'Ferry'} · Ferry`;
  render(nav(), document.getElementById('nav'));
  render(status(), document.getElementById('status'));
}

function nav() {
  const here = location.pathname;
  const link = (href, label, active) => html`<a href=${href} aria-current=${active ? 'page' : 'false'}>${label}</a>`;
  return html`${link('/', 'Runs', here === '/' || here.startsWith('/runs/'))}${ctx.session.relion ? link('/relion', 'RELION', here.startsWith('/relion')) : nothing}`;
}

function status() {
  const live = ctx.live === 'live'
    ? html`<span class="live live-on" title="Counts update as workers report">● Live</span>`
    : html`<span class="live live-off" title=${ctx.liveError ?? 'Connecting to ferry serve'}>● ${ctx.liveError ? 'Ledger unreadable' : 'Reconnecting'}</span>`;
  let lock = nothing;
  if (ctx.session.readOnly) lock = html`<span class="badge">Read-only</span>`;
  else if (ctx.unlocked) lock = html`<button class="link" @click=${() => (setToken(null), redraw())} title="Forget the token in this browser">Lock actions</button>`;
  else {
    lock = html`<form class="token-form" @submit=${unlock}>
      <label for="token-input">Token</label>
      <input id="token-input" name="token" type="password" autocomplete="off" placeholder="printed by ferry serve" required>
      <button type="submit">Unlock actions</button></form>`;
  }
  return html`${live}<span class="muted where" title="Ledger">${ctx.session.ledger ?? ''}</span>${lock}`;
}

function unlock(e) {
  e.preventDefault();
  setToken(new FormData(e.target).get('token').trim());
  redraw();
}

function connectLive() {
  const source = new EventSource('/api/live');
  source.addEventListener('runs', (e) => {
    const u = JSON.parse(e.data);
    if (u.error) {
      ctx.liveError = u.error;
      ctx.live = 'error';
    } else {
      ctx.liveError = undefined;
      ctx.live = 'live';
      if (u.full) ctx.runs.clear();
      for (const s of u.runs) ctx.runs.set(s.run.id, s);
      ctx.mark = u.mark;
    }
    page?.live?.(ctx, u);
    redraw();
  });
  source.addEventListener('error', () => {
    ctx.live = 'connecting';
    redraw();
  });
}

// Links inside the page change the view without loading the page again.
document.addEventListener('click', (e) => {
  const a = e.target.closest?.('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.target) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/neuroglancer/') || url.pathname.startsWith('/volumes/')) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', route);

adoptTokenFromAddress();
document.getElementById('main').replaceChildren();
try {
  ctx.session = await get('/api/session');
} catch (e) {
  notify(e.message, 'error');
}
connectLive();
route();
