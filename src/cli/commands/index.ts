// Each module adds its commands to the program; the list is the whole CLI surface. These modules
// hold only names, options and help, so that building the program costs next to nothing: each
// action `import()`s its implementation (the *-run.ts, *-upload.ts... modules beside them) when
// its command runs, and a command loads only the drivers and libraries it uses.
import type { Command } from 'commander';
import { register as transfer } from './transfer.ts';
import { register as demo } from './demo.ts';
import { register as jobs } from './jobs.ts';
import { register as dat } from './dat.ts';
import { register as fibsem } from './fibsem.ts';
import { register as jump } from './jump.ts';
import { register as mouselight } from './mouselight.ts';
import { register as volume } from './volume.ts';
import { register as serve } from './serve.ts';
import { register as relion } from './relion.ts';

export function registerCommands(program: Command): void {
  for (const register of [demo, transfer, jobs, dat, fibsem, jump, mouselight, volume, relion, serve]) register(program);
}
