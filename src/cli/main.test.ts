// What every command's --help promises, against what the README says of it: options that work
// with a command are listed with it, and options that do nothing there are not.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { runFerry } from '../testing/cli.ts';

const README = new URL('../../README.md', import.meta.url);

test('--json is listed in the help of every command the README shows with it', async () => {
  const readme = await readFile(README, 'utf8');
  const withJson = [...readme.matchAll(/^ferry ([a-z-]+(?: [a-z-]+)?)\b.*--json/gm)].map((m) => m[1].split(' ').filter((w) => !/[A-Z]/.test(w)));
  assert.ok(withJson.length >= 3, `the README shows --json with status, dat info, fibsem check (${JSON.stringify(withJson)})`);
  for (const words of [...withJson, ['status'], ['dat', 'info'], ['fibsem', 'check'], ['jobs', 'list']]) {
    const r = await runFerry([...words, '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--json +print one JSON object per line/, `ferry ${words.join(' ')} --help`);
  }
});

test('check --help lists no upload options; cp --help does', async () => {
  const check = await runFerry(['check', '--help']);
  for (const upload of ['--acl', '--storage-class', '--part-size', '--part-concurrency', '--multipart-threshold']) assert.doesNotMatch(check.stdout, new RegExp(`${upload}\\b`), upload);
  assert.match(check.stdout, /--endpoint-url/);
  assert.match((await runFerry(['cp', '--help'])).stdout, /--acl .*--storage-class/s);
});

test('a count of 0 names the option it was given to', async () => {
  for (const [args, option] of [
    [['fibsem', 'repair', 'tab.yaml', '--parallel', '0'], '--parallel'],
    [['fibsem', 'convert', 'tab.yaml', '--batch', '0'], '--batch'],
    [['cp', 'a', 'b', '--transfers', '0'], '--transfers'],
    [['volume', 'serve', '.', '--port', '70000'], '--port'],
  ] as const) {
    const r = await runFerry([...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^ferry: ${option} must be a whole number`), args.join(' '));
  }
});

test('a malformed %-escape in a file:// URL is a usage error, not a crash', async () => {
  const r = await runFerry(['cp', 'file:///tmp/%zz', '/tmp/ferry-never-written']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^ferry: file:\/\/\/tmp\/%zz has a malformed %-escape\n {2}in a file:\/\/ URL write % as %25/);
});
