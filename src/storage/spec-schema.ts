// The one schema of store options and specs, built from the drivers' declarations, for what
// arrives as data (job parameters, task files, recipe inputs). Apart from spec.ts so that only
// code that validates loads zod, not the CLI's start-up.
import { z } from 'zod';
import type { OptionKind } from './options.ts';
import { STORE_OPTIONS } from './spec.ts';
import type { StoreOptions, StoreSpec } from './spec.ts';

const VALUE: Record<OptionKind, () => z.ZodType> = {
  text: () => z.string(),
  switch: () => z.boolean(),
  bytes: () => z.number().int().positive(),
  count: () => z.number().int().positive(),
};

export const StoreOptionsSchema: z.ZodType<StoreOptions> = z.object(
  Object.fromEntries(Object.entries(STORE_OPTIONS).map(([name, d]) => [name, VALUE[d.kind]().optional()])),
);

export const StoreSpecSchema: z.ZodType<StoreSpec> = z.object({
  url: z.string().min(1),
  options: StoreOptionsSchema.optional(),
});
