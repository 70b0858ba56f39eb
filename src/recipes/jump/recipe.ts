// JUMP Cell Painting plate uploads (seed 002): one verified, resumable `transfer.sync` job per
// plate, found under a segmentation results folder (`plan`) or carried over, with their states and
// logs, from the job files of the lab's old scripts (`import`). The worked example of the recipe
// contract: an input schema, a plan that turns input into a run with its jobs, the kinds it uses.
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import { FerryError } from '../../errors.ts';
import type { JobSpec } from '../../ledger/engine.ts';
import type { JobState } from '../../ledger/schema.ts';
import type { PlannedRun } from '../../runtime/recipe.ts';
import { defineRecipe } from '../../runtime/recipe.ts';
import { transferKinds } from '../../transfer/kind.ts';
import { zodInput } from '../input.ts';
import { discoverPlates } from './discover.ts';
import { carriedOver } from './import.ts';
import { readOldJobList } from './joblist.ts';
import { DEFAULT_KEY_TEMPLATE, KEY_TEMPLATE_FIELDS, plateJob } from './plan.ts';
import type { PlanOptions } from './plan.ts';

const common = {
  dest: z.string().min(1),
  run: z.string().min(1).optional(),
  keyTemplate: z
    .string()
    .default(DEFAULT_KEY_TEMPLATE)
    .refine((t) => [...t.matchAll(/\{([^}]*)\}/g)].every((m) => (KEY_TEMPLATE_FIELDS as readonly string[]).includes(m[1])), {
      message: `only ${KEY_TEMPLATE_FIELDS.map((f) => `{${f}}`).join(', ')} may appear in braces`,
    })
    .refine((t) => !t.split('/').includes('..'), { message: 'must not have ".." segments: a plate is written below --dest' }),
  dataset: z.string().min(1).default('cpg0016-jump'),
  transfers: z.number().int().positive().optional(),
  store: z.record(z.string(), z.unknown()).optional(),
};

const Input = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('plan'),
    results: z.string().min(1),
    sourcesUnder: z.string().optional(),
    batchesUnder: z.string().optional(),
    ...common,
  }),
  z.strictObject({ action: z.literal('import'), joblist: z.string().min(1), ...common }),
]);
export type JumpInput = z.infer<typeof Input>;

export const recipe = defineRecipe<JumpInput>({
  name: 'jump',
  title: 'JUMP Cell Painting: one verified, resumable upload job per plate',
  input: zodInput(Input, 'JUMP input'),
  kinds: transferKinds,

  async plan(input, ctx) {
    const opts: PlanOptions = { dest: input.dest, keyTemplate: input.keyTemplate, transfers: input.transfers, store: input.store };
    // The same destination layout is what makes a run one campaign; where its plates were found
    // (a results folder, an old job list) may differ between the plan and an import.
    const identity = { dest: input.dest, keyTemplate: input.keyTemplate };
    if (input.action === 'plan') {
      const results = resolve(input.results);
      const found = await discoverPlates(results, { sourcesUnder: input.sourcesUnder, batchesUnder: input.batchesUnder, dataset: input.dataset });
      const run: PlannedRun = {
        name: input.run ?? `jump-${basename(results)}`,
        labels: { dest: input.dest, results },
        identity,
        jobs: found.plates.map((p) => plateJob(p, opts)),
        placement: 'cluster',
      };
      return { runs: found.plates.length ? [run] : [], warnings: [], facts: { discovery: found, run: run.name } };
    }
    const dir = resolve(input.joblist);
    const name = input.run ?? `jump-${basename(dir)}`;
    const { jobs, problems } = await readOldJobList(dir);
    const ledger = await ctx.ledger();
    const existing = await ledger.findRun(name);
    const had = new Set(existing ? (await ledger.listJobs({ runId: existing.id })).map((j) => j.key) : []);
    // A job file whose plate would land outside --dest (a '..' in its plate folder) is refused alone.
    const planned: { old: (typeof jobs)[number]; job: JobSpec }[] = [];
    for (const j of jobs) {
      try {
        planned.push({ old: j, job: plateJob(carriedOver.plate(j, input.dataset), opts) });
      } catch (e) {
        if (!(e instanceof FerryError)) throw e;
        problems.push({ file: j.file, reason: e.message });
      }
    }
    const fresh = planned.filter((p) => !had.has(p.job.key));
    const states: Partial<Record<JobState, number>> = {};
    const carryOver = fresh.map(({ old, job }) => {
      const c = carriedOver.state(old);
      states[c.state] = (states[c.state] ?? 0) + 1;
      return { key: job.key, ...c };
    });
    const run: PlannedRun = {
      name,
      labels: { dest: input.dest, importedFrom: dir },
      identity,
      jobs: planned.map((p) => p.job),
      carryOver,
      placement: 'cluster',
    };
    return {
      runs: [run],
      warnings: [],
      rejected: problems.map((p) => ({ item: p.file, reason: p.reason })),
      facts: { read: jobs.length, fresh: fresh.length, states, problems, run: name },
    };
  },
});
