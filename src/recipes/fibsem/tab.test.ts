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

test('an optional render: block: the mask folder resolves against the YAML file; a bad URL or field is named', () => {
  const withRender = `${VALID}render:\n  url: http://renderer:8080/render-ws/v1\n  owner: Z0720_07m_VNC\n  project: Sec26\n  maskDir: masks\n`;
  const t = parseTab(withRender, '/tabs/sec26.yaml');
  assert.deepEqual(t.render, { url: 'http://renderer:8080/render-ws/v1', owner: 'Z0720_07m_VNC', project: 'Sec26', maskDir: '/tabs/masks' });
  assert.equal(parseTab(VALID, '/tabs/sec26.yaml').render, undefined);
  fails(withRender.replace('http://renderer', 'renderer'), /render\.url: must be an http\(s\) URL/);
  fails(`${withRender}  stak: v1\n`, /unknown field render\.stak/);
});
