import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { shellQuote, sshArgs } from './ssh.ts';

test('every remote argument reaches the remote shell as one word, whatever it contains', () => {
  const args = ['/cygdrive/e/Images/Fly Brain/', "it's", '$HOME', '*.dat', 'a;rm -rf x', '`id`', ''];
  // What the remote side does with the command string: a POSIX shell parses it.
  const out = execFileSync('sh', ['-c', `printf '%s\\n' ${args.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
  assert.deepEqual(out.split('\n').slice(0, -1), args);
});

test('ssh runs in batch mode with the given config file, the host after --', () => {
  const a = sshArgs({ host: 'scope1', configFile: '/etc/ferry/ssh config' }, ['find', 'x y']);
  assert.deepEqual(a.slice(0, 2), ['-F', '/etc/ferry/ssh config']);
  assert.ok(a.includes('BatchMode=yes'));
  assert.deepEqual(a.slice(-3), ['--', 'scope1', "'find' 'x y'"]);
  assert.ok(!sshArgs({ host: 'h' }, ['true']).includes('-F'), 'without a config file ssh reads ~/.ssh/config');
});
