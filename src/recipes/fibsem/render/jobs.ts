// The job kinds of a Render import, one per step of a stack (see import-run.ts for their order):
// open (create or reopen the stack, LOADING), batch (one PUT of at most 5,000 tiles), finish (the
// stack's tile ids against the plan, then COMPLETE and the resolution values), verify (read back and
// compare; the result is the stack's `render-stack` record). Each finds its stack in the run's
// current plan; a job the plan no longer holds (the acquisition changed since it was planned) does
// nothing. Every step is safe to run again: render-ws upserts tiles by id, and open and finish
// look at the stack before they change it.
import { z } from 'zod';
import { FerryError } from '../../../errors.ts';
import { RenderClient } from '../../../render/client.ts';
import { finishStack, openStack, sendBatch } from '../../../render/import.ts';
import type { StackImport } from '../../../render/stack-import.ts';
import { verificationProblems, verifyStack } from '../../../render/verify.ts';
import type { Handler, JobContext } from '../../../runtime/registry.ts';
import type { StackRecord } from './import-run.ts';
import { STACK_RECORD, loadPlan, stepKeys } from './stored-plan.ts';
import type { StackSteps, StoredPlan } from './stored-plan.ts';

const Params = z.strictObject({ run: z.string().min(1), stack: z.string().min(1) });
type StepParams = z.infer<typeof Params>;

interface Step {
  ctx: JobContext;
  client: RenderClient;
  plan: StoredPlan;
  steps: StackSteps;
  stack: StackImport;
}

function stepHandler(kind: string, run: (s: Step) => Promise<unknown>): Handler<StepParams> {
  return {
    validate(p) {
      const r = Params.safeParse(p);
      if (!r.success) throw new FerryError(`${kind} parameters: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { kind: 'config' });
      return r.data;
    },
    async run(ctx, p) {
      const { plan, stacks } = await loadPlan(ctx.records, p.run);
      const steps = plan.stacks.find((s) => s.stack === p.stack);
      const stack = stacks.find((s) => s.stack === p.stack);
      if (!steps || !stack || !stepKeys(steps).includes(ctx.key)) {
        await ctx.log('not part of the run\'s current plan (the acquisition changed since): nothing sent');
        return { stack: p.stack, superseded: true };
      }
      const client = new RenderClient(plan.target, {
        onRetry: (i) => void ctx.log(`${i.what}: ${i.reason}; attempt ${i.attempt + 1} in ${Math.round(i.delayMs)} ms`),
      });
      try {
        return await run({ ctx, client, plan, steps, stack });
      } finally {
        client.close();
      }
    },
  };
}

export const openHandler = stepHandler('render.open', async ({ client, plan, stack }) => openStack(client, stack, { replace: plan.options.replace }));

export const batchHandler = stepHandler('render.batch', async ({ ctx, client, steps, stack }) => {
  const batch = stack.batches[steps.batches.findIndex((b) => b.key === ctx.key)];
  const tiles = batch.end - batch.start;
  ctx.progress({ done: 0, total: tiles, unit: 'tiles' });
  const sent = await sendBatch(client, stack, batch);
  ctx.progress({ done: tiles, total: tiles, unit: 'tiles' });
  return { ...sent, index: batch.index, of: stack.batches.length };
});

export const finishHandler = stepHandler('render.finish', async ({ client, plan, stack }) => ({
  ...(await finishStack(client, stack, { replace: plan.options.replace })),
  resolutionValues: stack.resolutionValues,
}));

export const verifyHandler = stepHandler('render.verify', async ({ ctx, client, plan, steps, stack }) => {
  const v = await verifyStack(client, stack, { layers: plan.options.verify });
  const body: StackRecord = { ...v, generation: steps.generation, run: plan.run, tab: plan.tab };
  await ctx.records.put({ recipe: 'fibsem', type: STACK_RECORD, key: `${v.owner}/${v.project}/${v.stack}`, body });
  if (!v.ok) throw new FerryError(`${v.stack} at ${v.url} is not as planned: ${verificationProblems(v).join('; ')}`, { hint: 'the verification is kept in the ledger (ferry status --run)', kind: 'item' });
  return { stack: v.stack, ok: true, checkedAt: v.checkedAt, tiles: v.tileCount.actual, sections: v.sectionCount.actual, layersCompared: v.specs.layers.length, layersTotal: v.specs.layersTotal };
});
