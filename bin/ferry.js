#!/usr/bin/env node
// Ferry runs its TypeScript sources directly: Node >= 22.18 strips types without a build step.
// An older `node` first on PATH hands over to the Node 24 that `npm install` put in node_modules,
// so `./bin/ferry.js` works from any shell, not only through npm scripts.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

if (!process.features.typescript) {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    process.stderr.write(`ferry: Node ${process.version} cannot run Ferry (it needs >= 22.18); run \`npm install\` in ${fileURLToPath(new URL('..', import.meta.url))} to get Node 24\n`);
    process.exit(2);
  }
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
} else {
  // File I/O runs on libuv's thread pool; its default of 4 threads serialises the open, write,
  // fsync and rename of many small files, so it is widened before anything touches the disk.
  process.env.UV_THREADPOOL_SIZE ??= '32';
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv);
}
