import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError } from '../../errors.ts';
import { parseTab } from './tab.ts';

const VALID = `
tab: Z0720-07m_VNC_Sec26
scope:
  host: jeiss8.hhmi.org
  datRoot: /cygdrive/e/Images/Fly Brain
  listing: scope_dat.txt
folders:
  transferredDat: /groups/flyem/data/Z0720-07m_VNC_Sec26/dat
  archiveDat: /nearline/flyem2/data/Z0720-07m_VNC_Sec26/dat
  inLensPng: InLens
  logs: ./logs
expected:
  firstDat: Merlin-6285_21-08-23_084156_0-0-0.dat
  lastDat: Merlin-6285_21-09-02_170314_0-0-3.dat
  count: 119208
`;

function fails(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseTab(text, '/tabs/sec26.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof FerryError, String(e));
      assert.equal(e.exitCode, 2);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('a valid tab: relative paths resolve against the YAML file', () => {
  const t = parseTab(VALID, '/tabs/sec26.yaml');
  assert.equal(t.tab, 'Z0720-07m_VNC_Sec26');
  assert.equal(t.scope.host, 'jeiss8.hhmi.org');
  assert.equal(t.scope.datRoot, '/cygdrive/e/Images/Fly Brain');
  assert.equal(t.scope.listing, '/tabs/scope_dat.txt');
  assert.equal(t.folders.inLensPng, '/tabs/InLens');
  assert.equal(t.folders.logs, '/tabs/logs');
  assert.equal(t.folders.archiveDat, '/nearline/flyem2/data/Z0720-07m_VNC_Sec26/dat');
  assert.deepEqual(t.expected, { firstDat: 'Merlin-6285_21-08-23_084156_0-0-0.dat', lastDat: 'Merlin-6285_21-09-02_170314_0-0-3.dat', count: 119208 });
});

test('a missing field is named', () => {
  fails(VALID.replace(/  archiveDat: .*\n/, ''), /\/tabs\/sec26\.yaml: folders\.archiveDat: missing/);
  fails(VALID.replace(/^tab: .*\n/m, ''), /: tab: missing/);
});

test('a wrong field is named with what was wrong', () => {
  fails(VALID.replace('count: 119208', 'count: many'), /expected\.count: expected number/);
  fails(VALID.replace('count: 119208', 'count: 12.5'), /expected\.count: must be a whole number/);
  fails(VALID.replace('firstDat: Merlin', 'firstDat: /data/Merlin'), /expected\.firstDat: must be a file name/);
  fails(VALID.replace('inLensPng: InLens', 'inLensPng: ""'), /folders\.inLensPng: must not be empty/);
});

test('a misspelt field is reported, not ignored', () => {
  fails(VALID.replace('archiveDat:', 'archivedDat:'), /unknown field folders\.archivedDat/);
});

test('broken YAML and an empty file are clear errors', () => {
  fails('tab: [x\n  scope: 1', /not valid YAML/);
  fails('', /tab: missing/);
});

test('every problem is listed, in field order, each object\'s unknown fields after its own', () => {
  const text = 'tab: "  "\nscope: [jeiss8]\nfolders:\n  transferredDat: ~\n  inLensPng: 5\n  logs: logs\n  extra1: a\n  extra2: b\nexpected:\n  count: -3\nmore: 1\n';
  fails(text, /: tab: must not be empty; scope: expected object; folders\.transferredDat: expected string; folders\.archiveDat: missing; folders\.inLensPng: expected string; unknown fields folders\.extra1, folders\.extra2; expected\.count: must not be negative; unknown field more$/);
  fails('just words', /: : expected object$/);
});
