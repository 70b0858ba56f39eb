// The `transfer.sync` job kind as recipes declare it: every recipe that moves data (JUMP plates,
// MouseLight products, the demo) spreads this into its kinds, so they share one loader and a
// worker loads the transfer engine only when it claims a transfer.
import type { KindLoaders } from '../runtime/recipe.ts';

export const TRANSFER_JOB = 'transfer.sync';

export const transferKinds: KindLoaders = {
  [TRANSFER_JOB]: async () => (await import('./job.ts')).transferHandler,
};
