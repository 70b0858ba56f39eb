// The directory driver against the contract every Store keeps.
import { after } from 'node:test';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../testing/tree.ts';
import { openFileStore } from './file.ts';
import { storeContract } from './store-contract.ts';

const root = await tempDir('ferry-file-store-');
after(() => rm(root, { recursive: true, force: true }));

storeContract((prefix) => openFileStore(join(root, prefix)));
