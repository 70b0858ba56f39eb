// A recipe's input schema from a zod schema: the input comes from flags, a web form or a file,
// and every problem is named by its field, all of them at once.
import type { z } from 'zod';
import { FerryError } from '../errors.ts';
import type { InputSchema } from '../runtime/recipe.ts';

export function zodInput<S extends z.ZodType>(schema: S, what: string): InputSchema<z.infer<S>> {
  return {
    parse(raw) {
      const r = schema.safeParse(raw);
      if (r.success) return r.data;
      const problems = r.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
      throw new FerryError(`${what} is not valid: ${problems.join('; ')}`, { kind: 'usage' });
    },
  };
}
