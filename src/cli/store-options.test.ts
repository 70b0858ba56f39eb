// The storage flags are the drivers' declared options: what a user types becomes StoreOptions that
// pass the schema job parameters are checked against.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { StoreOptionsSchema } from '../storage/spec-schema.ts';
import { addStoreOptions, storeOptionsFrom } from './store-options.ts';

function parse(args: string[]): Record<string, unknown> {
  const cmd = addStoreOptions(new Command().exitOverride().configureOutput({ writeErr: () => {} }));
  return cmd.parse(args, { from: 'user' }).opts();
}

test('every storage flag lands in its option, sizes and counts parsed; flags not given are left out', () => {
  const o = storeOptionsFrom(parse([
    '--endpoint-url', 'http://127.0.0.1:7480', '--profile', 'lab', '--region', 'eu-west-1', '--path-style', '--acl', 'bucket-owner-full-control',
    '--storage-class', 'GLACIER', '--credential-command', 'get-keys', '--key-file', '/k.json',
    '--part-size', '16M', '--part-concurrency', '8', '--multipart-threshold', '1G',
  ]));
  assert.deepEqual(o, {
    endpoint: 'http://127.0.0.1:7480', profile: 'lab', region: 'eu-west-1', pathStyle: true, acl: 'bucket-owner-full-control',
    storageClass: 'GLACIER', credentialCommand: 'get-keys', keyFile: '/k.json',
    partSize: 16 * 1024 ** 2, partConcurrency: 8, multipartThreshold: 1024 ** 3,
  });
  assert.deepEqual(StoreOptionsSchema.parse(o), o);
  assert.deepEqual(storeOptionsFrom(parse(['--profile', 'lab'])), { profile: 'lab' });
});

test('a bad count or size is refused with the flag named', () => {
  assert.throws(() => parse(['--part-concurrency', '0']), /--part-concurrency must be a whole number of at least 1, not "0"/);
  assert.throws(() => parse(['--part-size', 'lots']), /"lots" is not a size/);
});
