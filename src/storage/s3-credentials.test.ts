// Where S3 keys come from: a credential command (refreshed before expiry and after an
// ExpiredToken answer), and an AWS CLI profile with endpoint_url and credential_process.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { FerryError } from '../errors.ts';
import { openS3Store } from './s3.ts';
import { parseCredentialJson, refreshAt } from './s3-credentials.ts';
import { adminClient, createBucket, dropBucket, faultProxy, s3TestServer, useServerKeys } from '../testing/s3.ts';

const server = s3TestServer();
useServerKeys(server);
let admin: S3Client;
let bucket: string;
let work: string;

before(async () => {
  admin = adminClient(server);
  bucket = await createBucket(admin, 'ferry-creds');
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-creds-'));
});

after(async () => {
  await dropBucket(admin, bucket);
  admin.destroy();
  await fs.rm(work, { recursive: true, force: true });
});

/** A command printing the server's keys valid for `lifetimeS` from now, counting its runs in a file. */
async function countingCommand(name: string, lifetimeS: number, wrapped = false): Promise<{ command: string; runs(): Promise<number> }> {
  const expiration = new Date(Date.now() + lifetimeS * 1000).toISOString();
  const counter = path.join(work, `${name}.runs`);
  const script = path.join(work, `${name}.sh`);
  const json = wrapped
    ? '{"Credentials":{"AccessKeyId":"%s","SecretAccessKey":"%s","SessionToken":"t","Expiration":"%s"}}'
    : '{"Version":1,"AccessKeyId":"%s","SecretAccessKey":"%s","SessionToken":"t","Expiration":"%s"}';
  await fs.writeFile(script, [
    `echo run >> '${counter}'`,
    `printf '${json}\\n' '${server.accessKey}' '${server.secretKey}' '${expiration}'`,
  ].join('\n'));
  return {
    command: `sh '${script}'`,
    runs: async () => (await fs.readFile(counter, 'utf8').catch(() => '')).split('\n').filter(Boolean).length,
  };
}

describe('credential command output', () => {
  test('accepts the credential_process form and the {"Credentials": ...} wrapper of aws sts', () => {
    const plain = parseCredentialJson('c', '{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S","SessionToken":"T","Expiration":"2030-01-01T00:00:00Z"}');
    assert.equal(plain.accessKeyId, 'A');
    assert.equal(plain.sessionToken, 'T');
    assert.equal(plain.expiration?.toISOString(), '2030-01-01T00:00:00.000Z');
    const wrapped = parseCredentialJson('c', '{"Credentials":{"AccessKeyId":"B","SecretAccessKey":"S","Expiration":"2030-01-01T00:00:00Z"},"MatchedGrantTarget":"s3://x/*"}');
    assert.equal(wrapped.accessKeyId, 'B');
  });

  test('output that is not credentials is an error naming the command', () => {
    assert.throws(() => parseCredentialJson('get-keys', 'Password:'), { name: 'FerryError', message: /credential command "get-keys" printed something that is not JSON/ });
    assert.throws(() => parseCredentialJson('get-keys', '{"AccessKeyId":"A"}'), { message: /without AccessKeyId and SecretAccessKey/ });
    assert.throws(() => parseCredentialJson('get-keys', '{"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"soon"}'), { message: /Expiration that is not a date/ });
  });

  test('refreshes at 80% of the lifetime, and at least 5 minutes early when the lifetime allows', () => {
    assert.equal(refreshAt(0, 10_000), 8_000);
    assert.equal(refreshAt(0, 600_000), 300_000);
    assert.equal(refreshAt(0, 3_600_000), 2_880_000);
  });
});

describe('credential command against the server', () => {
  test('short-lived keys are fetched again before they expire, not on every request', async (t) => {
    // The test's clock, which moves only when the test moves it: keys that live 60 s of it are due
    // again after 48 s (80%). The S3 server sees request times at most a minute off, well within its
    // allowed skew.
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const cmd = await countingCommand('short', 60);
    const store = await openS3Store(bucket, 'short/', { endpoint: server.endpoint, credentialCommand: cmd.command });
    await store.write('a', Buffer.from('1'));
    await store.write('b', Buffer.from('2'));
    t.mock.timers.tick(47_000);
    assert.deepEqual(await store.readBytes('a'), Buffer.from('1'));
    assert.equal(await cmd.runs(), 1, 'one run for every request made while the keys are fresh');
    t.mock.timers.tick(2_000);
    assert.deepEqual(await store.readBytes('b'), Buffer.from('2'));
    assert.equal(await cmd.runs(), 2, 'fetched again 49 s into a 60 s lifetime');
    await store.close();
  });

  test('an ExpiredToken answer refreshes the keys once and the request succeeds', async () => {
    const cmd = await countingCommand('expired', 3600, true);
    let faked = 0;
    const proxy = await faultProxy(server.endpoint, {
      fake: (req) => (req.method === 'PUT' && faked++ === 0 ? { status: 400, code: 'ExpiredToken' } : undefined),
    });
    try {
      const store = await openS3Store(bucket, 'expired/', { endpoint: proxy.endpoint, credentialCommand: cmd.command });
      const result = await store.write('k', Buffer.from('after refresh'));
      assert.equal(result.size, 13);
      assert.equal(faked, 2);
      assert.equal(await cmd.runs(), 2);
      await store.close();
    } finally {
      await proxy.close();
    }
  });

  test('a failing command is reported with its name and its own error', async () => {
    const store = await openS3Store(bucket, '', { endpoint: server.endpoint, credentialCommand: 'echo "token expired, log in" >&2; exit 4' });
    await assert.rejects(store.stat('x'), (e: unknown) => {
      assert.ok(e instanceof FerryError);
      assert.match(e.message, /^credential command "echo .*" failed: token expired, log in$/);
      return true;
    });
    await store.close();
  });
});

test('a profile with endpoint_url and credential_process in AWS_CONFIG_FILE is enough', async () => {
  const cmd = await countingCommand('profile', 3600);
  const config = path.join(work, 'aws-config');
  await fs.writeFile(config, `[profile ceph-test]\nregion = us-east-1\nendpoint_url = ${server.endpoint}\ncredential_process = ${cmd.command}\n`);
  const saved = { ...process.env };
  process.env.AWS_CONFIG_FILE = config;
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(work, 'no-credentials');
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
  try {
    const store = await openS3Store(bucket, 'profile/', { profile: 'ceph-test' });
    await store.write('p.txt', Buffer.from('via profile'));
    assert.deepEqual(await store.readBytes('p.txt'), Buffer.from('via profile'));
    assert.equal(await cmd.runs(), 1);
    await store.close();
    const missing = await openS3Store('no-such-bucket-ferry', '', { profile: 'ceph-test' });
    await assert.rejects(missing.stat('x'), { message: `bucket no-such-bucket-ferry does not exist at ${server.endpoint}` });
    await missing.close();
  } finally {
    process.env = saved;
  }
});

test('AWS_ENDPOINT_URL is used when no endpoint is given', async () => {
  process.env.AWS_ENDPOINT_URL = server.endpoint;
  try {
    const store = await openS3Store(bucket, 'env/', {});
    await store.write('e', Buffer.from('env'));
    assert.deepEqual(await store.readBytes('e'), Buffer.from('env'));
    await store.close();
  } finally {
    delete process.env.AWS_ENDPOINT_URL;
  }
});
