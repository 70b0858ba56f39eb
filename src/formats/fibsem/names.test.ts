import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acquisitionDay, coreName, isStandardCore, parseDatName, scopeDayFolder, scopeHostFromMachineId } from './names.ts';

test('a standard tile name parses into scope, time, layer and tile key', () => {
  assert.deepEqual(parseDatName('Merlin-6285_21-08-23_084156_0-1-2.dat'), {
    core: 'Merlin-6285_21-08-23_084156_0-1-2',
    scope: 'Merlin-6285',
    acquired: '2021-08-23T08:41:56',
    layerId: 'Merlin-6285_21-08-23_084156',
    section: 0,
    row: 1,
    column: 2,
    tileKey: '0-1-2',
    standard: true,
  });
  assert.equal(parseDatName('/cygdrive/e/Images/Fly Brain/Y2021/M08/D23/Merlin-6285_21-08-23_084156_0-0-0.dat')?.core, 'Merlin-6285_21-08-23_084156_0-0-0');
});

test('names outside the pattern are non-standard or unparseable', () => {
  assert.equal(parseDatName('notes.dat'), undefined);
  assert.equal(parseDatName('Merlin-6285_21-08-23_084156_0-0-0_copy.dat')?.standard, false);
  assert.equal(isStandardCore('Merlin-6285_21-08-23_084156_0-0-0'), true);
  assert.equal(isStandardCore('Merlin-6285_21-08-23_084156_0-0-10'), false);
  assert.equal(isStandardCore('Other-1_21-08-23_084156_0-0-0'), false);
});

test('core names per stage suffix', () => {
  assert.equal(coreName('InLens/Merlin-6285_21-08-23_084156_0-0-0-InLens.png', '-InLens.png'), 'Merlin-6285_21-08-23_084156_0-0-0');
  assert.equal(coreName('Merlin-6285_21-08-23_084156_0-0-0.log', '.log'), 'Merlin-6285_21-08-23_084156_0-0-0');
  assert.equal(coreName('Merlin-6285_21-08-23_084156_0-0-0.png', '-InLens.png'), undefined);
  assert.equal(coreName('.dat', '.dat'), undefined);
});

test('scope host from MachineID and the day folder on the scope', () => {
  assert.equal(scopeHostFromMachineId('Jeiss8/Merlin-6284'), 'jeiss8.hhmi.org');
  assert.equal(scopeHostFromMachineId('Merlin-6284'), undefined);
  assert.equal(acquisitionDay('Merlin-6285_21-08-23_084156_0-0-0.dat'), '2021-08-23');
  assert.equal(scopeDayFolder('2021-08-23'), 'Y2021/M08/D23');
});
