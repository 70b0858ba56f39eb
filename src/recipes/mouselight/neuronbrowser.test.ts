// NeuronBrowser's answer -> sample date -> tag -> id and injection location. The expected days are
// what update_aws_neurons.py's datetime.fromtimestamp(sampleDate / 1000).strftime("%Y-%m-%d")
// prints on a machine whose local zone is the one named (checked with TZ=... python3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { neuronMap } from './neuronbrowser.ts';

const injection = (sampleDate: number | string, tags: [string, string][], brainArea: { name: string | null } | null = { name: 'Somatomotor areas' }) => ({
  sample: { sampleDate },
  neurons: tags.map(([tag, idString]) => ({ tag, idString })),
  brainArea,
});

test('epoch milliseconds become days in the layout time zone, across midnight and daylight saving changes', () => {
  const answer = {
    data: {
      injections: [
        injection(1403582400000, [['G-001', 'AA0001']]), // 2014-06-24T04:00:00Z, midnight EDT
        injection(1403582399999, [['G-002', 'AA0002']]), // one millisecond earlier
        injection(1420088399999, [['G-003', 'AA0003']]), // 2015-01-01T04:59:59.999Z, 23:59:59.999 EST
        injection(1420088400000, [['G-004', 'AA0004']]), // 2015-01-01T05:00:00Z, midnight EST
        injection(1394339400000, [['G-005', 'AA0005']]), // 2014-03-09T04:30:00Z, before DST began that morning
        injection(1414902600000, [['G-006', 'AA0006']]), // 2014-11-02T04:30:00Z, before DST ended that morning
        injection(String(1403582400000), [['G-007', 'AA0007']]), // a date sent as a string of milliseconds
      ],
    },
  };
  const days = (tz: string) => Object.fromEntries([...neuronMap(answer, 'test', tz)].map(([day, n]) => [day, [...n.keys()]]));
  assert.deepEqual(days('America/New_York'), {
    '2014-06-24': ['G-001', 'G-007'],
    '2014-06-23': ['G-002'],
    '2014-12-31': ['G-003'],
    '2015-01-01': ['G-004'],
    '2014-03-08': ['G-005'],
    '2014-11-02': ['G-006'],
  });
  assert.deepEqual(days('UTC'), {
    '2014-06-24': ['G-001', 'G-002', 'G-007'],
    '2015-01-01': ['G-003', 'G-004'],
    '2014-03-09': ['G-005'],
    '2014-11-02': ['G-006'],
  });
});

test('every neuron of a date gets the brain area of the date\'s last injection, as the script sets it; rows without a sample or neurons are skipped', () => {
  const map = neuronMap(
    {
      data: {
        injections: [
          injection(1403582400000, [['G-001', 'AA0230'], ['G-002', 'AA0231']], { name: 'Somatomotor areas' }),
          { sample: null, neurons: [{ idString: 'AA9999', tag: 'G-001' }], brainArea: { name: 'Thalamus' } },
          { sample: { sampleDate: 1403582400000 }, neurons: [], brainArea: { name: 'Thalamus' } },
          injection(1403582400000, [['G-003', 'AA0232']], { name: 'Primary visual area' }),
          injection(1420088400000, [['G-001', 'AA0500']], null),
          injection(1420088400000, [['G-002', 'AA0501']], { name: null }),
        ],
      },
    },
    'test',
    'America/New_York',
  );
  assert.deepEqual(Object.fromEntries([...map].map(([day, n]) => [day, Object.fromEntries(n)])), {
    '2014-06-24': {
      'G-001': { id: 'AA0230', injectionLocation: 'Primary visual area' },
      'G-002': { id: 'AA0231', injectionLocation: 'Primary visual area' },
      'G-003': { id: 'AA0232', injectionLocation: 'Primary visual area' },
    },
    '2015-01-01': {
      'G-001': { id: 'AA0500', injectionLocation: null },
      'G-002': { id: 'AA0501', injectionLocation: null },
    },
  });
});
