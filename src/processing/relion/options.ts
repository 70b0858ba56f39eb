// relion_it.py's options, as SynchWeb sends them (JSON values, or ISPyB ProcessingJobParameter
// strings with booleans as 1/0), mapped onto the RELION 3.1 job options of the jobs Ferry runs:
// Import, MotionCorr with RELION's own implementation, and CtfFind when a CTFFIND executable is
// configured. Labels are RELION's GUI labels (src/pipeline_jobs.cpp at tag 3.1.3), the names
// `relion_pipeliner --addJobOptions` takes; defaults are relion_it.py's (scripts/relion_it.py at
// 3.1.3) except where a comment says why not.
import { FerryError } from '../../errors.ts';

export type ParamValue = string | number | boolean;
export type RelionParams = Record<string, ParamValue>;
export type JobType = 'Import' | 'MotionCorr' | 'CtfFind';

export interface JobSpec {
  type: JobType;
  /** [label, value] pairs, without the input-node option (it names the previous job). */
  options: Array<[string, string]>;
}

export interface PipelinePlan {
  jobs: JobSpec[];
  /** relion_it options given but not used: stages after CTF estimation, Gctf, UCSF MotionCor2, queues. */
  ignored: string[];
}

export interface PlanContext {
  /** The Import wildcard, relative to the project folder: Movies/<file template>. */
  movieGlob: string;
  /** Width and height of the first movie when its header could be read (for the power-spectrum size). */
  movieSize?: { nx: number; ny: number };
  /** CTFFIND 4.1 executable; CtfFind is planned only with one. */
  ctffindExecutable?: string;
}

/** Options Ferry maps onto job options (plus import_images, which the caller resolves). */
const USED = new Set([
  'angpix', 'voltage', 'Cs', 'ampl_contrast', 'import_images', 'images_are_movies',
  'motioncor_doseperframe', 'motioncor_gainreference', 'motioncor_gainflip', 'motioncor_gainrot',
  'motioncor_binning', 'motioncor_bfactor', 'motioncor_patches_x', 'motioncor_patches_y',
  'motioncor_threads', 'motioncor_mpi', 'motioncor_defectfile', 'motioncor_do_own',
  'eer_upsampling', 'eer_grouping', 'stop_after_ctf_estimation', 'use_ctffind_instead',
  'ctffind4_exe', 'ctffind_boxsize', 'ctffind_astigmatism', 'ctffind_maxres', 'ctffind_minres',
  'ctffind_defocus_max', 'ctffind_defocus_min', 'ctffind_defocus_step', 'ctffind_do_phaseshift',
  'ctffind_mpi',
]);

/**
 * The other relion_it.py 3.1.3 options, and Diamond's (acquisition_software, autopick_do_cryolo,
 * use_fsc_criterion, which SynchWeb sends): accepted and reported as ignored, since Ferry stops after
 * CTF estimation, submits its own cluster jobs and has no GPU tools.
 */
const KNOWN_UNUSED = new Set(
  (
    'acquisition_software autopick_do_cryolo use_fsc_criterion autopick_do_LoG autopick_LoG_diam_min autopick_LoG_diam_max autopick_LoG_adjust_threshold ' +
    'autopick_LoG_upper_threshold autopick_2dreferences autopick_3dreference autopick_refs_threshold ' +
    'autopick_refs_min_distance autopick_stddev_noise autopick_avg_noise extract_boxsize extract_downscale ' +
    'extract_small_boxsize extract2_downscale extract2_small_boxsize do_class2d do_class3d batch_size ' +
    'class2d_nr_classes mask_diameter symmetry class3d_nr_classes have_3d_reference class3d_reference ' +
    'class3d_ref_is_correct_greyscale class3d_ref_is_ctf_corrected class3d_ini_lowpass do_second_pass ' +
    'minimum_resolution_3dref_2ndpass do_class2d_pass2 do_class3d_pass2 batch_size_pass2 preprocess_repeat_times ' +
    'preprocess_repeat_wait batch_repeat_time motioncor_exe motioncor_gpu motioncor_other_args ' +
    'motioncor_submit_to_queue ctffind_do_ignore_search_params ctffind_do_EPA gctf_exe gctf_gpu ' +
    'ctffind_submit_to_queue autopick_do_gpu autopick_gpu autopick_lowpass autopick_shrink_factor autopick_mpi ' +
    'autopick_other_args autopick_submit_to_queue autopick_refs_are_ctf_corrected autopick_refs_have_inverted_contrast ' +
    'autopick_refs_ignore_ctf1stpeak autopick_refs_mask_diam autopick_inplane_sampling autopick_3dref_symmetry ' +
    'autopick_3dref_sampling autopick_ref_angpix extract_bg_diameter extract_mpi extract_submit_to_queue ' +
    'do_discard_on_image_statistics discard_sigma discard_submit_to_queue refine_preread_images refine_scratch_disk ' +
    'refine_nr_pool refine_do_gpu refine_gpu refine_mpi refine_threads refine_skip_padding refine_submit_to_queue ' +
    'refine_batchsize_for_fast_subsets minimum_batch_size class2d_nr_iter class2d_angle_step class2d_offset_range ' +
    'class2d_offset_step class2d_ctf_ign1stpeak class2d_other_args class3d_nr_iter class3d_reference_mask ' +
    'class3d_ctf_ign1stpeak class3d_T_value class3d_angle_step class3d_offset_range class3d_offset_step ' +
    'class3d_other_args inimodel_nr_classes inimodel_ctf_ign1stpeak inimodel_solvent_flatten inimodel_angle_step ' +
    'inimodel_offset_range inimodel_offset_step inimodel_nr_iter_initial inimodel_nr_iter_inbetween ' +
    'inimodel_nr_iter_final inimodel_freq_writeout inimodel_resol_ini inimodel_resol_final inimodel_batchsize_ini ' +
    'inimodel_batchsize_final inimodel_sigmafudge_halflife inimodel_other_args queue_name queue_submit_command ' +
    'queue_submission_template queue_minimum_dedicated'
  ).split(' '),
);

const GAIN_ROTATION = ['No rotation (0)', '90 degrees (1)', '180 degrees (2)', '270 degrees (3)'];
const GAIN_FLIP = ['No flipping (0)', 'Flip upside down (1)', 'Flip left to right (2)'];
/** CTFFIND 4.1 fits power spectra at this pixel size or coarser (RELION's motioncorr_runner.cpp). */
const CTFFIND_TARGET_PIXEL_SIZE = 1.4;
const RELION_DEFAULT_PS_SIZE = 512;

const bad = (name: string, value: unknown, want: string) =>
  new FerryError(`RELION option ${name} = ${JSON.stringify(value)} is not ${want}`, { hint: 'fix the value in the parameters file or --param' });

/** Typed reads of the parameters: JSON values as they are, ISPyB's strings converted. */
class Params {
  private readonly p: RelionParams;
  constructor(p: RelionParams) {
    this.p = p;
  }
  has(name: string): boolean {
    return this.p[name] !== undefined && this.p[name] !== '';
  }
  number(name: string, dflt: number | undefined, o: { min?: number; max?: number; integer?: boolean; above?: number } = {}): number {
    const raw = this.p[name];
    if (raw === undefined || raw === '') {
      if (dflt === undefined) throw new FerryError(`RELION option ${name} is required`, { hint: `give it in the parameters file or as --param ${name}=VALUE` });
      return dflt;
    }
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    const want = o.integer ? 'a whole number' : 'a number';
    if (!Number.isFinite(n) || (o.integer && !Number.isInteger(n))) throw bad(name, raw, want);
    if (o.min !== undefined && n < o.min) throw bad(name, raw, `${want} of at least ${o.min}`);
    if (o.above !== undefined && n <= o.above) throw bad(name, raw, `${want} above ${o.above}`);
    if (o.max !== undefined && n > o.max) throw bad(name, raw, `${want} of at most ${o.max}`);
    return n;
  }
  bool(name: string, dflt: boolean): boolean {
    const raw = this.p[name];
    if (raw === undefined || raw === '') return dflt;
    if (typeof raw === 'boolean') return raw;
    const s = String(raw).trim().toLowerCase();
    if (['1', 'true', 'yes'].includes(s)) return true;
    if (['0', 'false', 'no'].includes(s)) return false;
    throw bad(name, raw, 'true or false (or 1 / 0)');
  }
  string(name: string, dflt = ''): string {
    const raw = this.p[name];
    return raw === undefined ? dflt : String(raw);
  }
}

const yes = (b: boolean) => (b ? 'Yes' : 'No');

/** A RELION gain rotation or flip: its GUI label, or the number in it. */
function choice(params: Params, name: string, labels: string[]): string {
  const raw = params.string(name, labels[0]).trim();
  const byLabel = labels.find((l) => l === raw);
  if (byLabel) return byLabel;
  const n = /^\d$/.test(raw) ? labels[Number(raw)] : undefined;
  if (n) return n;
  throw bad(name, raw, `one of ${labels.map((l) => `"${l}"`).join(', ')} (or its number)`);
}

/**
 * The power-spectrum size MotionCorr writes for CTFFIND: RELION's default 512 unless the movie is
 * too small for it. RELION crops the spectrum to min(nx, ny) pixels, fewer when the pixel is finer
 * than CTFFIND's 1.4 Å, and aborts ("Invalid size given to cropInFourierSpace") when --ps_size is
 * larger than what is left: 256^2 and 512^2 movies at 1 Å fail with the default.
 */
export function powerSpectrumSize(nx: number, ny: number, angpix: number, binning: number): number {
  const side = Math.floor(Math.min(nx, ny) / binning);
  const pixel = angpix * binning;
  let cropped = side;
  if (pixel < CTFFIND_TARGET_PIXEL_SIZE) {
    cropped = Math.ceil((side * pixel) / CTFFIND_TARGET_PIXEL_SIZE);
    cropped += cropped % 2;
  }
  const size = Math.min(RELION_DEFAULT_PS_SIZE, cropped);
  return size - (size % 2);
}

export function planPipeline(raw: RelionParams, ctx: PlanContext): PipelinePlan {
  const unknown = Object.keys(raw).filter((k) => !USED.has(k) && !KNOWN_UNUSED.has(k));
  if (unknown.length) {
    throw new FerryError(`unknown RELION option${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
      hint: "use relion_it.py's option names (e.g. angpix, voltage, Cs, motioncor_doseperframe, motioncor_gainreference)",
    });
  }
  const p = new Params(raw);
  if (!p.bool('images_are_movies', true)) {
    throw new FerryError('single-frame micrographs (images_are_movies = false) are not supported', { hint: 'Ferry runs motion correction on movies' });
  }
  if (!p.bool('motioncor_do_own', true)) {
    throw new FerryError("motioncor_do_own = false asks for UCSF MotionCor2, which Ferry does not run", {
      hint: "leave motioncor_do_own out (or true): Ferry uses RELION's own motion correction",
    });
  }
  if (!p.bool('use_ctffind_instead', true)) {
    throw new FerryError('use_ctffind_instead = false asks for Gctf, which Ferry does not run', { hint: 'Ferry estimates the CTF with CTFFIND 4.1' });
  }
  const angpix = p.number('angpix', undefined, { above: 0 });
  const binning = p.number('motioncor_binning', 1, { min: 1 });
  const dose = p.number('motioncor_doseperframe', undefined, { above: 0 });
  const importJob: JobSpec = {
    type: 'Import',
    options: [
      ['Import raw movies/micrographs?', 'Yes'],
      ['Raw input files:', ctx.movieGlob],
      ['Are these multi-frame movies?', 'Yes'],
      ['Pixel size (Angstrom):', String(angpix)],
      ['Voltage (kV):', String(p.number('voltage', undefined, { above: 0 }))],
      ['Spherical aberration (mm):', String(p.number('Cs', undefined, { min: 0 }))],
      ['Amplitude contrast:', String(p.number('ampl_contrast', 0.1, { min: 0, max: 1 }))],
    ],
  };
  const eerUpsampling = p.number('eer_upsampling', 1, { integer: true, min: 1, max: 2 });
  const extraArgs: string[] = eerUpsampling !== 1 ? [`--eer_upsampling ${eerUpsampling}`] : [];
  const ctffind = ctx.ctffindExecutable;
  const motionCorr: JobSpec = {
    type: 'MotionCorr',
    options: [
      ["Use RELION's own implementation?", 'Yes'],
      ['Gain-reference image:', p.string('motioncor_gainreference')],
      ['Gain flip:', choice(p, 'motioncor_gainflip', GAIN_FLIP)],
      ['Gain rotation:', choice(p, 'motioncor_gainrot', GAIN_ROTATION)],
      ['Defect file:', p.string('motioncor_defectfile')],
      ['Do dose-weighting?', 'Yes'],
      ['Dose per frame (e/A2):', String(dose)],
      ['Number of patches X:', String(p.number('motioncor_patches_x', 4, { integer: true, min: 1 }))],
      ['Number of patches Y:', String(p.number('motioncor_patches_y', 4, { integer: true, min: 1 }))],
      ['Bfactor:', String(p.number('motioncor_bfactor', 150, { min: 0 }))],
      ['Binning factor:', String(binning)],
      ['EER fractionation:', String(p.number('eer_grouping', 20, { integer: true, min: 1 }))],
      ['Number of threads:', String(p.number('motioncor_threads', 6, { integer: true, min: 1 }))],
      // relion_it.py's default is 4 MPI processes; 1 runs without mpirun, which a bare machine and a
      // single Slurm task both can. Give motioncor_mpi for more.
      ['Number of MPI procs:', String(p.number('motioncor_mpi', 1, { integer: true, min: 1 }))],
      // CTFFIND fits the summed power spectra MotionCorr saves, as relion_it.py sets it up.
      ['Save sum of power spectra?', yes(ctffind !== undefined)],
    ],
  };
  if (ctffind !== undefined && ctx.movieSize) {
    const ps = powerSpectrumSize(ctx.movieSize.nx, ctx.movieSize.ny, angpix, binning);
    if (ps !== RELION_DEFAULT_PS_SIZE) extraArgs.push(`--ps_size ${ps}`);
  }
  motionCorr.options.push(['Additional arguments:', extraArgs.join(' ')]);
  const jobs = [importJob, motionCorr];
  if (ctffind !== undefined) {
    jobs.push({
      type: 'CtfFind',
      options: [
        ['Use CTFFIND-4.1?', 'Yes'],
        ['Use Gctf instead?', 'No'],
        ['Use power spectra from MotionCorr job?', 'Yes'],
        ['CTFFIND-4.1 executable:', ctffind],
        ['FFT box size (pix):', String(p.number('ctffind_boxsize', 512, { integer: true, min: 64 }))],
        ['Amount of astigmatism (A):', String(p.number('ctffind_astigmatism', 100, { min: 0 }))],
        ['Maximum resolution (A):', String(p.number('ctffind_maxres', 5, { above: 0 }))],
        ['Minimum resolution (A):', String(p.number('ctffind_minres', 30, { above: 0 }))],
        ['Maximum defocus value (A):', String(p.number('ctffind_defocus_max', 50000, { above: 0 }))],
        ['Minimum defocus value (A):', String(p.number('ctffind_defocus_min', 5000, { min: 0 }))],
        ['Defocus step size (A):', String(p.number('ctffind_defocus_step', 500, { above: 0 }))],
        ['Estimate phase shifts?', yes(p.bool('ctffind_do_phaseshift', false))],
        ['Number of MPI procs:', String(p.number('ctffind_mpi', 1, { integer: true, min: 1 }))],
      ],
    });
  }
  // Ferry always stops after CTF estimation; asking for more is reported among the ignored options.
  const stopAfterCtf = p.bool('stop_after_ctf_estimation', true);
  for (const job of jobs) {
    for (const [label, value] of job.options) {
      // relion_pipeliner splits --addJobOptions at ';' and reads one line per option.
      if (/[;\n\r]/.test(value)) {
        throw new FerryError(`the ${job.type} option "${label}" cannot hold ";" or a line break: ${JSON.stringify(value)}`, {
          hint: 'rename the file or folder so its path has neither',
        });
      }
    }
  }
  const ignored = Object.keys(raw).filter(
    (k) => KNOWN_UNUSED.has(k) || (!ctffind && k.startsWith('ctffind')) || (k === 'stop_after_ctf_estimation' && !stopAfterCtf),
  );
  return { jobs, ignored };
}

/** The CTFFIND executable from the parameters (ctffind4_exe) or RELION's own RELION_CTFFIND_EXECUTABLE. */
export function ctffindFrom(params: RelionParams, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = params.ctffind4_exe ?? env.RELION_CTFFIND_EXECUTABLE;
  return given === undefined || String(given).trim() === '' ? undefined : String(given).trim();
}
