import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FerryError } from '../../errors.ts';
import { ctffindFrom, planPipeline, powerSpectrumSize } from './options.ts';
import type { JobSpec, RelionParams } from './options.ts';

const ctx = { movieGlob: 'Movies/Frames/*.tif' };
const options = (job: JobSpec | undefined) => Object.fromEntries(job?.options ?? []);

// The message SynchWeb wrote for a 2019 visit (seed 004), as JSON.
const SYNCHWEB: RelionParams = {
  acquisition_software: 'SerialEM',
  import_images: '/dls/m07/data/2019/em19865-17/raw/Frames/*.tif',
  motioncor_gainreference: '/dls/m07/data/2019/em19865-17/processing/gain.mrc',
  voltage: 300,
  Cs: 2.7,
  ctffind_do_phaseshift: false,
  angpix: 1.23,
  motioncor_binning: 1,
  motioncor_doseperframe: 0.5,
  stop_after_ctf_estimation: true,
};

test("SynchWeb's message maps onto RELION's Import and MotionCorr options", () => {
  const plan = planPipeline(SYNCHWEB, ctx);
  assert.deepEqual(plan.jobs.map((j) => j.type), ['Import', 'MotionCorr']);
  assert.deepEqual(options(plan.jobs[0]), {
    'Import raw movies/micrographs?': 'Yes',
    'Raw input files:': 'Movies/Frames/*.tif',
    'Are these multi-frame movies?': 'Yes',
    'Pixel size (Angstrom):': '1.23',
    'Voltage (kV):': '300',
    'Spherical aberration (mm):': '2.7',
    'Amplitude contrast:': '0.1',
  });
  const mc = options(plan.jobs[1]);
  assert.equal(mc["Use RELION's own implementation?"], 'Yes');
  assert.equal(mc['Gain-reference image:'], '/dls/m07/data/2019/em19865-17/processing/gain.mrc');
  assert.equal(mc['Dose per frame (e/A2):'], '0.5');
  assert.equal(mc['Binning factor:'], '1');
  assert.equal(mc['Number of patches X:'], '4');
  assert.equal(mc['Save sum of power spectra?'], 'No');
  assert.equal(mc['Additional arguments:'], '');
  // Without CTFFIND, the CTF options have nothing to apply to.
  assert.deepEqual(plan.ignored, ['acquisition_software', 'ctffind_do_phaseshift']);
});

test('ISPyB parameters (strings, booleans as 1/0) give the same options as JSON values', () => {
  const strings = Object.fromEntries(Object.entries(SYNCHWEB).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v)]));
  assert.deepEqual(planPipeline(strings, ctx), planPipeline(SYNCHWEB, ctx));
});

test('with CTFFIND: CtfFind on the power spectra MotionCorr saves, sized to fit small movies', () => {
  const plan = planPipeline({ ...SYNCHWEB, ctffind_do_phaseshift: '1', motioncor_gainflip: '2' }, { ...ctx, ctffindExecutable: '/opt/ctffind', movieSize: { nx: 512, ny: 512 } });
  assert.deepEqual(plan.jobs.map((j) => j.type), ['Import', 'MotionCorr', 'CtfFind']);
  const mc = options(plan.jobs[1]);
  assert.equal(mc['Save sum of power spectra?'], 'Yes');
  assert.equal(mc['Gain flip:'], 'Flip left to right (2)');
  assert.equal(mc['Additional arguments:'], '--ps_size 450');
  const ctf = options(plan.jobs[2]);
  assert.equal(ctf['CTFFIND-4.1 executable:'], '/opt/ctffind');
  assert.equal(ctf['Use power spectra from MotionCorr job?'], 'Yes');
  assert.equal(ctf['Estimate phase shifts?'], 'Yes');
  assert.equal(ctf['FFT box size (pix):'], '512');
  assert.deepEqual(plan.ignored, ['acquisition_software']);
});

test("power spectrum size: RELION's 512 unless the cropped spectrum is smaller", () => {
  // RELION crops to min(nx, ny) * angpix / 1.4 (rounded up to even) when pixels are finer than 1.4 Å.
  assert.equal(powerSpectrumSize(256, 256, 1, 1), 184);
  assert.equal(powerSpectrumSize(512, 512, 1, 1), 366);
  assert.equal(powerSpectrumSize(1024, 1024, 1, 1), 512);
  assert.equal(powerSpectrumSize(4096, 4096, 0.83, 1), 512);
  assert.equal(powerSpectrumSize(300, 256, 1.5, 1), 256);
  assert.equal(powerSpectrumSize(1024, 1024, 0.5, 2), 366);
  assert.equal(powerSpectrumSize(512, 512, 0.5, 2), 184);
});

test('later stages and cluster options are accepted and reported as ignored; stop_after_ctf_estimation = false too', () => {
  const plan = planPipeline({ ...SYNCHWEB, stop_after_ctf_estimation: 0, do_class2d: 1, autopick_LoG_diam_min: 150, queue_name: 'q' }, ctx);
  assert.deepEqual(plan.ignored, ['acquisition_software', 'ctffind_do_phaseshift', 'stop_after_ctf_estimation', 'do_class2d', 'autopick_LoG_diam_min', 'queue_name']);
});

test('bad options are FerryErrors that name the option', () => {
  const fails = (p: RelionParams, re: RegExp) =>
    assert.throws(() => planPipeline({ ...SYNCHWEB, ...p }, { ...ctx, ctffindExecutable: '/opt/ctffind' }), (e: unknown) => e instanceof FerryError && re.test(e.message));
  fails({ angpx: 1 }, /^unknown RELION option: angpx$/);
  fails({ angpix: '' }, /^RELION option angpix is required$/);
  fails({ angpix: 0 }, /^RELION option angpix = 0 is not a number above 0$/);
  fails({ motioncor_patches_x: 2.5 }, /^RELION option motioncor_patches_x = 2\.5 is not a whole number$/);
  fails({ ctffind_do_phaseshift: 'maybe' }, /ctffind_do_phaseshift = "maybe" is not true or false/);
  fails({ motioncor_gainrot: 7 }, /motioncor_gainrot = "7" is not one of "No rotation \(0\)"/);
  fails({ motioncor_do_own: 0 }, /UCSF MotionCor2, which Ferry does not run/);
  fails({ use_ctffind_instead: false }, /Gctf, which Ferry does not run/);
  fails({ images_are_movies: 'false' }, /single-frame micrographs/);
  fails({ motioncor_gainreference: '/data/gain;rm.mrc' }, /cannot hold ";"/);
});

test("the CTFFIND executable comes from ctffind4_exe, else RELION's RELION_CTFFIND_EXECUTABLE", () => {
  assert.equal(ctffindFrom({ ctffind4_exe: '/a/ctffind' }, { RELION_CTFFIND_EXECUTABLE: '/b/ctffind' }), '/a/ctffind');
  assert.equal(ctffindFrom({}, { RELION_CTFFIND_EXECUTABLE: '/b/ctffind' }), '/b/ctffind');
  assert.equal(ctffindFrom({}, {}), undefined);
  assert.equal(ctffindFrom({ ctffind4_exe: ' ' }, {}), undefined);
});
