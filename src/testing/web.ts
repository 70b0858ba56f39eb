// Shared by the web page's tests: `ferry serve` as a user starts it (a child process, its address
// and token read from its --json output), Chromium as the volume tests drive it, and waiting for a
// page state without sleeping.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';
import { jsonLines, startFerry } from './cli.ts';

export function requireEnv(name: string, script: string): string {
  const v = process.env[name];
  if (!v) assert.fail(`${name} is not set: run \`bash scripts/services/${script} start && eval "$(bash scripts/services/${script} env)"\` (or scripts/test-all.sh)`);
  return v;
}

export interface Served {
  /** http://127.0.0.1:PORT/ */
  url: string;
  /** The address printed for people: with #token=... unless read-only or from a token file. */
  address: string;
  token: string | undefined;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Runs `ferry --json serve --port 0 ...args` and waits until it listens. */
export async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child = startFerry(['--json', 'serve', '--port', '0', ...args], { env });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const ev = await new Promise<Record<string, any>>((ok, fail) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const e = out.includes('\n') ? jsonLines(out.slice(0, out.lastIndexOf('\n'))).find((x) => x.type === 'serving') : undefined;
      if (e) ok(e);
    });
    child.on('exit', (code) => fail(new Error(`ferry serve exited with ${code}: ${out}${err}`)));
  });
  return {
    url: ev.url,
    address: ev.address,
    token: ev.token,
    child,
    output: () => out + err,
    stop: () =>
      new Promise((ok) => {
        if (child.exitCode !== null || child.signalCode !== null) return ok();
        child.once('exit', () => ok());
        child.kill('SIGTERM');
      }),
  };
}

export interface Chromium {
  context: BrowserContext;
  /** Ends the browser process, whatever state its pages are in. */
  close(): Promise<void>;
}

/** Headless Chromium with the flags the closed network needs (see the Neuroglancer test). */
export async function launchChromium(viewport = { width: 1280, height: 900 }): Promise<Chromium> {
  const browser = await chromium.launch({
    executablePath: requireEnv('FERRY_TEST_CHROMIUM', 'chromium.sh'),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport });
  // A shared machine under load can take long to draw a page: wait for states, not for a clock.
  context.setDefaultTimeout(120_000);
  return { context, close: () => browser.close() };
}

/** Polls `check` until it returns a value other than undefined (a state, never a fixed sleep). */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Where the tests put their screenshots: the README's folder docs/screenshots with
 * FERRY_UPDATE_SCREENSHOTS=1 (how they are made), else the test's own scratch folder, so that a test
 * run leaves the work tree as it was.
 */
export async function screenshotFolder(scratch: string): Promise<string> {
  const dir = process.env.FERRY_UPDATE_SCREENSHOTS ? join(import.meta.dirname, '..', '..', 'docs', 'screenshots') : join(scratch, 'screenshots');
  await mkdir(dir, { recursive: true });
  return dir;
}
