#!/usr/bin/env node
// Ferry runs its TypeScript sources directly: Node >= 22.18 strips types without a build step.
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv);
