// The facility's layout as a YAML file: where each product of a sample lives on the file systems,
// where it goes in the bucket, and how the cluster and NeuronBrowser are reached. Paths are
// templates: {date} is the sample date, {mmdd} its month and day, {subfolder} a segmentation
// sub-folder chosen at upload time.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { FerryError } from '../../errors.ts';

const PLACEHOLDERS = ['date', 'mmdd', 'subfolder'] as const;
export type TemplateValues = Partial<Record<(typeof PLACEHOLDERS)[number], string>>;

const template = (allowed: readonly string[]) =>
  z
    .string()
    .min(1)
    .refine((t) => [...t.matchAll(/\{([^}]*)\}/g)].every((m) => allowed.includes(m[1])), {
      message: `only ${allowed.map((p) => `{${p}}`).join(', ')} may appear in braces`,
    });

const relative = (allowed: readonly string[]) =>
  template(allowed)
    .refine((t) => !t.startsWith('/') && !/^[a-z0-9+.-]+:\/\//i.test(t), {
      message: 'must be a key prefix inside the bucket, not an absolute path or URL',
    })
    .refine((t) => !t.split('/').includes('..'), { message: 'must not have ".." segments: everything is written below bucket' });

const ProductSource = z
  .object({
    /** Names the job when a product has several sources (e.g. Finished_Neurons, tracing_complete). */
    name: z.string().regex(/^[\w.-]+$/, 'letters, digits, dots, dashes and underscores only').optional(),
    source: template(PLACEHOLDERS),
    destination: relative(['date', 'mmdd']),
  })
  .strict();

const PRODUCT_NAME = /^[a-z][\w-]*$/;

export const MouselightLayout = z
  .object({
    bucket: z.string().regex(/^(s3|gs|file):\/\/./, 'must be a bucket URL such as s3://janelia-mouselight-imagery'),
    profile: z.string().min(1).optional(),
    region: z.string().min(1).optional(),
    endpoint: z.url().optional(),
    images: z
      .object({
        /** Searched in order; the first one holding the sample date is used. */
        bases: z.array(template(['date', 'mmdd'])).min(1),
        destination: relative(['date', 'mmdd']),
      })
      .strict(),
    products: z
      .record(z.string().regex(PRODUCT_NAME, 'product names are lower-case words'), z.array(ProductSource).min(1))
      .refine((p) => !('images' in p), { message: '"images" is configured under images:, not products:' })
      .default({}),
    cluster: z
      .object({
        /** Products that go to Slurm / LSF workers with --submit (and to bsub lines with --emit-script). */
        products: z.array(z.string()).default([]),
        project: z.string().min(1).optional(),
        queue: z.string().min(1).optional(),
        cores: z.number().int().positive().default(4),
      })
      .strict()
      .default({ products: [], cores: 4 }),
    neurons: z
      .object({
        graphql: z.url().optional(),
        /** The zone NeuronBrowser's sampleDate (epoch ms) is turned into a date in. */
        timeZone: z.string().default('UTC').refine(validTimeZone, { message: 'is not an IANA time zone such as America/New_York' }),
        locations: z.array(z.string().regex(/^[\w.-]+$/)).min(1).default(['Finished_Neurons', 'tracing_complete']),
        timeoutSeconds: z.number().positive().default(60),
      })
      .strict()
      .default({ timeZone: 'UTC', locations: ['Finished_Neurons', 'tracing_complete'], timeoutSeconds: 60 }),
  })
  .strict()
  .superRefine((l, ctx) => {
    for (const p of l.cluster.products) {
      if (p !== 'images' && !(p in l.products)) {
        ctx.addIssue({ code: 'custom', path: ['cluster', 'products'], message: `"${p}" is not a product of this layout` });
      }
    }
  });
export type MouselightLayout = z.infer<typeof MouselightLayout>;
export type ProductSource = z.infer<typeof ProductSource>;

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const DEFAULT_LAYOUT_FILE = 'mouselight.yaml';

export async function loadLayout(file: string): Promise<MouselightLayout> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FerryError(`cannot read the MouseLight layout ${file} (${code === 'ENOENT' ? 'no such file' : (e as Error).message})`, {
      hint: 'copy examples/mouselight.yaml, adapt it to your facility and pass it with --config',
    });
  }
  return parseLayout(text, file);
}

export function parseLayout(text: string, file: string): MouselightLayout {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new FerryError(`${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`, { hint: 'see examples/mouselight.yaml' });
  }
  const r = MouselightLayout.safeParse(raw ?? {});
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${/received undefined$/.test(i.message) ? 'is missing' : i.message}`);
    throw new FerryError(`${file}: ${problems.join('; ')}`, { hint: 'see examples/mouselight.yaml for every field' });
  }
  return r.data;
}

/** Fills {date}, {mmdd} and {subfolder}; a placeholder without a value is a bug in the caller. */
export function expand(tpl: string, values: TemplateValues): string {
  return tpl.replace(/\{(\w+)\}/g, (_, name: keyof TemplateValues) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for {${name}} in ${tpl}`);
    return v;
  });
}

export function usesSubfolder(src: ProductSource): boolean {
  return src.source.includes('{subfolder}');
}
