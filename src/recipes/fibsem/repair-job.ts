// The `fibsem.repair` job kind: one tile of a repair (fetch its .dat from the scope or the
// transferred folder into the archive, convert its InLens PNG), as planned from a check. One
// attempt only: a tile that cannot be repaired is reported (quarantined, or the reason) and the
// user runs the repair again once the cause is fixed; files only ever get added.
import { z } from 'zod';
import { FerryError } from '../../errors.ts';
import type { Handler } from '../../runtime/registry.ts';
import { REPAIR_JOB } from './kinds.ts';
import { runStep } from './repair.ts';
import type { RepairParams } from './repair.ts';

const Params = z.strictObject({
  tab: z.string(),
  step: z.strictObject({
    core: z.string(),
    fetch: z.strictObject({ from: z.enum(['scope', 'transferred']), path: z.string() }).optional(),
    convert: z.string().optional(),
  }),
  folders: z.strictObject({ archiveDat: z.string(), inLensPng: z.string(), logs: z.string(), quarantine: z.string() }),
  target: z.strictObject({ host: z.string(), configFile: z.string().optional() }),
});

export const repairHandler: Handler<RepairParams> = {
  validate(p) {
    const r = Params.safeParse(p);
    if (!r.success) throw new FerryError(`${REPAIR_JOB} parameters: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { kind: 'config' });
    return r.data;
  },
  async run(ctx, p) {
    ctx.progress({ done: 0, total: 1, unit: 'tiles' });
    const r = await runStep(p.folders, p.step, { target: p.target, signal: ctx.signal, onBytes: (n) => ctx.progress({ done: 0, total: 1, unit: 'tiles', bytesDone: n }) });
    await ctx.records.put({ recipe: 'fibsem', type: 'tile', key: `${p.tab}/${p.step.core}`, body: r });
    if (r.error) throw new FerryError(r.error, { kind: 'item' });
    return r;
  },
};
