// The relion_it options a RELION launch takes, as SynchWeb sends them: names from relion_it.py's
// RelionItOptions (RELION 3.1.3) plus Diamond's few (acquisition_software, autopick_do_cryolo,
// use_fsc_criterion), types, defaults and ranges from SynchWeb's RelionSchema (commit e80730cf,
// api/src/Page/EM/RelionSchema.php). They come from a JSON file as SynchWeb wrote it
// (relion_msg_*.json) and `key=value` overrides; they are recorded as ProcessingJobParameter rows
// exactly as SynchWeb's Relion.php wrote them, and read back from those rows by the processing side.
//
// Deliberate differences from SynchWeb, each because a user would otherwise be refused or misled:
// - Cs may also be 1.4 or 2.0 mm (SynchWeb 2020's list; e80730cf offers only Diamond's 2.7).
// - Box sizes must be whole pixels (as SynchWeb 2020 required; e80730cf let 256.5 through to RELION).
// - import_images is the image directory and file template joined by one slash (e80730cf put two).
// - acquisition_software is EPU for a `GridSquare_*\/Data/*` template, SerialEM for `Frames/*`
//   (e80730cf's test compared strpos() with the string 'false' and so always wrote EPU).
// - motioncor_gainreference is recorded only when given: Ferry knows no facility's visit layout to
//   invent `<visit>/processing/gain.mrc` from, as SynchWeb's form default did.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { FerryError } from '../errors.ts';
import type { ParameterRow } from './records.ts';

const NUMBER_TEXT = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** JSON numbers, and numbers written as text (`--param voltage=300`, ISPyB rows). */
function number() {
  return z.preprocess((v) => (typeof v === 'string' && NUMBER_TEXT.test(v.trim()) ? Number(v) : v), z.number({ error: 'should be a number' }));
}

function real(min: number, max: number) {
  return number().pipe(z.number().min(min, `should be at least ${min}`).max(max, `should be at most ${max}`));
}

function whole(min: number, max: number) {
  return number().pipe(z.number().int('should be a whole number').min(min, `should be at least ${min}`).max(max, `should be at most ${max}`));
}

function oneOf(values: number[]) {
  return number().pipe(z.number().refine((v) => values.includes(v), `should be one of ${values.join(', ')}`));
}

/** true/false, and 1/0 as SynchWeb writes booleans into ISPyB (also as text). */
function bool() {
  return z.preprocess(
    (v) => (v === 1 || v === '1' || v === 'true' ? true : v === 0 || v === '0' || v === 'false' ? false : v),
    z.boolean({ error: 'should be true or false (1 or 0)' }),
  );
}

function text(max: number) {
  return z.string({ error: 'should be text' }).min(1, 'should not be empty').max(max, `should be at most ${max} characters`);
}

/** ProcessingJobParameter.parameterValue is varchar(1024). */
const VALUE_MAX = 1024;

const ACQUISITION_SOFTWARE = ['EPU', 'SerialEM'] as const;
const VOLTAGES_KV = [200, 300];
const CS_MM = [1.4, 2.0, 2.7];
const BINNINGS = [1, 2];

const Options = z.strictObject({
  acquisition_software: z.enum(ACQUISITION_SOFTWARE, { error: 'should be EPU or SerialEM' }).optional(),
  import_images: text(VALUE_MAX).optional(),
  motioncor_gainreference: text(VALUE_MAX).optional(),
  voltage: oneOf(VOLTAGES_KV).default(300),
  Cs: oneOf(CS_MM).default(2.7),
  ctffind_do_phaseshift: bool().default(false),
  angpix: real(0.02, 100),
  eer_grouping: whole(1, 10_000).optional(),
  motioncor_binning: oneOf(BINNINGS).default(1),
  motioncor_doseperframe: real(0.003, 5),
  stop_after_ctf_estimation: bool().default(false),
  do_class2d: bool().optional(),
  do_class3d: bool().optional(),
  use_fsc_criterion: bool().optional(),
  autopick_do_cryolo: bool().optional(),
  autopick_LoG_diam_min: real(0.02, 1024).optional(),
  autopick_LoG_diam_max: real(0.02, 4000).optional(),
  mask_diameter: real(0.1, 1024).optional(),
  extract_downscale: bool().optional(),
  extract_boxsize: whole(1, 1024).optional(),
  extract_small_boxsize: whole(1, 1024).optional(),
  do_class2d_pass2: bool().optional(),
  do_class3d_pass2: bool().optional(),
});

export type RelionOptions = z.output<typeof Options>;

export const RELION_OPTION_NAMES: readonly string[] = Object.keys(Options.shape);

/** Needed, with no default, when the run goes past CTF estimation (SynchWeb's form left them blank). */
const PARTICLE_REQUIRED = ['autopick_LoG_diam_min', 'autopick_LoG_diam_max', 'mask_diameter', 'extract_boxsize', 'extract_small_boxsize'] as const;

/** Recorded only when the run goes past CTF estimation (SynchWeb's `stored` rule). */
const AFTER_CTF = [
  'do_class2d',
  'do_class3d',
  'use_fsc_criterion',
  'autopick_do_cryolo',
  'autopick_LoG_diam_min',
  'autopick_LoG_diam_max',
  'mask_diameter',
  'extract_downscale',
  'extract_boxsize',
  'extract_small_boxsize',
  'do_class2d_pass2',
  'do_class3d_pass2',
] as const;

/** SynchWeb's form defaults for the options after CTF estimation. */
const AFTER_CTF_DEFAULTS = { do_class2d: true, do_class3d: true, use_fsc_criterion: false, autopick_do_cryolo: false } as const;

/** RelionSchema's default for EER movies. */
const EER_GROUPING_DEFAULT = 20;

/**
 * The row order SynchWeb's Relion.php produced: its schema's order, then import_images and
 * acquisition_software, which it added last.
 */
const ROW_ORDER = [
  'motioncor_gainreference',
  'voltage',
  'Cs',
  'ctffind_do_phaseshift',
  'angpix',
  'eer_grouping',
  'motioncor_binning',
  'motioncor_doseperframe',
  'stop_after_ctf_estimation',
  ...AFTER_CTF,
  'import_images',
  'acquisition_software',
] as const satisfies readonly (keyof RelionOptions)[];

/** Where options came from, for messages: e.g. `relion_msg.json`, `--param`, `processing job 12`. */
export interface OptionSource {
  label: string;
  values: Record<string, unknown>;
}

/**
 * Typed options from sources applied in order (later ones win), checked against SynchWeb's rules;
 * a FerryError lists every problem, and an unknown name is refused with the list of known ones.
 */
export function relionOptions(sources: OptionSource[]): RelionOptions {
  const raw: Record<string, unknown> = {};
  const from: Record<string, string> = {};
  for (const s of sources) {
    for (const [k, v] of Object.entries(s.values)) {
      raw[k] = v;
      from[k] = s.label;
    }
  }
  const unknown = Object.keys(raw).filter((k) => !RELION_OPTION_NAMES.includes(k));
  if (unknown.length > 0) {
    throw new FerryError(`unknown RELION option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `${k} (${from[k]})`).join(', ')}`, {
      hint: `known options: ${RELION_OPTION_NAMES.join(', ')}`,
      code: 'UnknownOption',
    });
  }
  const parsed = Options.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      if (!(key in raw)) return `${key} is required`;
      return `${key}=${JSON.stringify(raw[key])} (${from[key]}) ${i.message}`;
    });
    throw new FerryError(`invalid RELION options: ${problems.join('; ')}`, { hint: optionsHint(), code: 'InvalidOption' });
  }
  return complete(parsed.data);
}

/** Applies SynchWeb's conditional rules: what goes past CTF estimation is required, or dropped. */
function complete(o: RelionOptions): RelionOptions {
  const out: RelionOptions = { ...o };
  if (o.stop_after_ctf_estimation) {
    for (const k of AFTER_CTF) delete out[k];
    return out;
  }
  const missing = PARTICLE_REQUIRED.filter((k) => o[k] === undefined);
  if (missing.length > 0) {
    throw new FerryError(`invalid RELION options: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required unless stop_after_ctf_estimation is true`, {
      hint: optionsHint(),
      code: 'InvalidOption',
    });
  }
  if (o.autopick_LoG_diam_min! >= o.autopick_LoG_diam_max!) {
    throw new FerryError(
      `invalid RELION options: autopick_LoG_diam_min (${o.autopick_LoG_diam_min}) must be less than autopick_LoG_diam_max (${o.autopick_LoG_diam_max})`,
      { hint: optionsHint(), code: 'InvalidOption' },
    );
  }
  for (const [k, v] of Object.entries(AFTER_CTF_DEFAULTS)) (out as Record<string, unknown>)[k] ??= v;
  if (!out.do_class3d) delete out.use_fsc_criterion;
  return out;
}

function optionsHint(): string {
  return 'options come from the --params JSON file (as SynchWeb writes relion_msg_*.json) and --param KEY=VALUE';
}

/** The parameters of a JSON file as SynchWeb wrote it: one object of option names to values. */
export async function readRelionParamsFile(path: string): Promise<OptionSource> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new FerryError(`cannot read the RELION parameters file ${path}: ${(e as Error).message}`, { hint: 'give the JSON file SynchWeb writes (relion_msg_*.json)' });
  }
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (e) {
    throw new FerryError(`the RELION parameters file ${path} is not JSON: ${(e as Error).message}`, { hint: 'it holds one JSON object, e.g. {"voltage": 300, "angpix": 1.23}' });
  }
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new FerryError(`the RELION parameters file ${path} does not hold a JSON object`, { hint: 'it holds one JSON object, e.g. {"voltage": 300, "angpix": 1.23}' });
  }
  return { label: path, values: values as Record<string, unknown> };
}

/** `KEY=VALUE` overrides; values stay text and are typed by the option they name. */
export function parseParamOverrides(params: string[]): OptionSource {
  const values: Record<string, unknown> = {};
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new FerryError(`--param ${p} is not KEY=VALUE`, { hint: 'e.g. --param voltage=300', code: 'InvalidOption' });
    values[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
  }
  return { label: '--param', values };
}

/** The movies relion_it imports: the image directory and the file template, joined by one slash. */
export function importImages(imageDirectory: string, fileTemplate: string): string {
  return `${imageDirectory.replace(/\/+$/, '')}/${fileTemplate.replace(/^\/+/, '')}`;
}

function acquisitionSoftware(fileTemplate: string): RelionOptions['acquisition_software'] {
  if (/(^|\/)GridSquare_\*\/Data\/\*/.test(fileTemplate)) return 'EPU';
  if (/(^|\/)Frames\/\*/.test(fileTemplate)) return 'SerialEM';
  return undefined;
}

/**
 * The options of one processing job for these movies: import_images from the data collection (an
 * import_images given that names other movies is refused), acquisition_software from the
 * template unless given, eer_grouping only for EER movies (default 20).
 */
export function relionOptionsFor(options: RelionOptions, dc: { imageDirectory: string; fileTemplate: string }): RelionOptions {
  const images = importImages(dc.imageDirectory, dc.fileTemplate);
  if (options.import_images !== undefined && options.import_images !== images) {
    throw new FerryError(`import_images (${options.import_images}) names other movies than the image directory and file template (${images})`, {
      hint: 'leave import_images out: Ferry sets it from --image-directory and --file-template',
      code: 'InvalidOption',
    });
  }
  const out: RelionOptions = { ...options, import_images: images };
  out.acquisition_software ??= acquisitionSoftware(dc.fileTemplate);
  if (out.acquisition_software === undefined) delete out.acquisition_software;
  if (/\.eer$/i.test(dc.fileTemplate)) out.eer_grouping ??= EER_GROUPING_DEFAULT;
  else delete out.eer_grouping;
  return out;
}

/** ProcessingJobParameter rows as SynchWeb wrote them: its order, booleans as 1/0, numbers as text. */
export function relionParameterRows(options: RelionOptions): ParameterRow[] {
  const rows: ParameterRow[] = [];
  for (const key of ROW_ORDER) {
    const v = options[key];
    if (v === undefined) continue;
    rows.push({ key, value: typeof v === 'boolean' ? (v ? '1' : '0') : String(v) });
  }
  return rows;
}

/** Typed options back from a job's rows; a FerryError names the job if a row is unknown or invalid. */
export function relionOptionsFromRows(rows: ParameterRow[], label: string): RelionOptions {
  const values: Record<string, unknown> = {};
  for (const r of rows) values[r.key] = r.value;
  return relionOptions([{ label, values }]);
}

/** One field of a Start form, as SynchWeb's RelionSchema draws it: what a web page shows. */
export interface RelionFormField {
  name: keyof RelionOptions;
  label: string;
  kind: 'number' | 'choice' | 'boolean' | 'text';
  choices?: readonly (string | number)[];
  default?: string | number | boolean;
  /** Needed (no default) when the run goes past CTF estimation, or always. */
  required?: 'always' | 'after-ctf';
  /** Recorded only when the run goes past CTF estimation. */
  afterCtf: boolean;
  /** Only for EER movies. */
  eerOnly?: boolean;
}

const FORM_LABELS: Partial<Record<keyof RelionOptions, [string, RelionFormField['kind']]>> = {
  acquisition_software: ['Acquisition software', 'choice'],
  motioncor_gainreference: ['Gain reference file', 'text'],
  voltage: ['Voltage (kV)', 'choice'],
  Cs: ['Spherical aberration Cs (mm)', 'choice'],
  ctffind_do_phaseshift: ['Phase plate (CTF phase shift)', 'boolean'],
  angpix: ['Pixel size (Å/pixel)', 'number'],
  eer_grouping: ['EER fractionation (frames per fraction)', 'number'],
  motioncor_binning: ['Motion correction binning', 'choice'],
  motioncor_doseperframe: ['Dose per frame (e⁻/Å²)', 'number'],
  stop_after_ctf_estimation: ['Stop after CTF estimation', 'boolean'],
  do_class2d: ['2D classification', 'boolean'],
  do_class3d: ['3D classification', 'boolean'],
  use_fsc_criterion: ['Use the FSC criterion (3D)', 'boolean'],
  autopick_do_cryolo: ['Pick with crYOLO', 'boolean'],
  autopick_LoG_diam_min: ['Minimum particle diameter (Å)', 'number'],
  autopick_LoG_diam_max: ['Maximum particle diameter (Å)', 'number'],
  mask_diameter: ['Mask diameter (Å)', 'number'],
  extract_downscale: ['Downscale extracted particles', 'boolean'],
  extract_boxsize: ['Box size (pixels)', 'number'],
  extract_small_boxsize: ['Downscaled box size (pixels)', 'number'],
  do_class2d_pass2: ['2D classification, second pass', 'boolean'],
  do_class3d_pass2: ['3D classification, second pass', 'boolean'],
};

const FORM_CHOICES: Partial<Record<keyof RelionOptions, readonly (string | number)[]>> = {
  acquisition_software: ACQUISITION_SOFTWARE,
  voltage: VOLTAGES_KV,
  Cs: CS_MM,
  motioncor_binning: BINNINGS,
};

/**
 * The Start form: every option a user sets (import_images is made from the movies' folder and
 * template), in the order SynchWeb recorded them, with its default and whether it is needed.
 */
export function relionFormFields(): RelionFormField[] {
  const afterCtf = new Set<string>(AFTER_CTF);
  const particles = new Set<string>(PARTICLE_REQUIRED);
  return ROW_ORDER.filter((name) => name !== 'import_images').map((name) => {
    const [label, kind] = FORM_LABELS[name]!;
    const parsed = Options.shape[name].safeParse(undefined);
    const fallback = name === 'eer_grouping' ? EER_GROUPING_DEFAULT : (AFTER_CTF_DEFAULTS as Record<string, boolean>)[name];
    const value = parsed.success && parsed.data !== undefined ? parsed.data : fallback;
    const required = !parsed.success ? 'always' : particles.has(name) ? 'after-ctf' : undefined;
    return {
      name,
      label,
      kind,
      ...(FORM_CHOICES[name] ? { choices: FORM_CHOICES[name] } : {}),
      ...(value !== undefined ? { default: value as string | number | boolean } : {}),
      ...(required ? { required } : {}),
      afterCtf: afterCtf.has(name),
      ...(name === 'eer_grouping' ? { eerOnly: true } : {}),
    };
  });
}
