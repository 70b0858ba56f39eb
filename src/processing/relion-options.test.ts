import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { isFerryError } from '../errors.ts';
import { tempDir } from '../testing/tree.ts';
import {
  RELION_OPTION_NAMES,
  parseParamOverrides,
  readRelionParamsFile,
  relionOptions,
  relionOptionsFor,
  relionOptionsFromRows,
  relionParameterRows,
  relionFormFields,
} from './relion-options.ts';

// The file of seeds/004 (relion_msg_200416.130626.json), as SynchWeb wrote it.
const SEED_FILE = `{
"acquisition_software": "SerialEM",
"import_images": "/dls/m07/data/2019/em19865-17/raw/Frames/*.tif",
"motioncor_gainreference": "/dls/m07/data/2019/em19865-17/processing/gain.mrc",
"voltage": 300,
"Cs": 2.7,
"ctffind_do_phaseshift": false,
"angpix": 1.23,
"motioncor_binning": 1,
"motioncor_doseperframe": 0.5,
"stop_after_ctf_estimation": true
}`;
const SEED_DC = { imageDirectory: '/dls/m07/data/2019/em19865-17/raw/', fileTemplate: 'Frames/*.tif' };

const PARTICLES = {
  stop_after_ctf_estimation: false,
  autopick_LoG_diam_min: 150,
  autopick_LoG_diam_max: 180,
  mask_diameter: 190,
  extract_boxsize: 256,
  extract_small_boxsize: 64,
};

async function seedFile(body = SEED_FILE): Promise<string> {
  const file = path.join(await tempDir('ferry-relion-'), 'relion_msg.json');
  await writeFile(file, body);
  return file;
}

function refused(fn: () => unknown, code: string, ...texts: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isFerryError(e), String(e));
    assert.equal(e.code, code);
    for (const t of texts) assert.match(`${e.message} ${e.hint}`, t);
    return true;
  });
}

test("the seed's parameters file becomes the rows SynchWeb wrote, in its order, booleans as 1/0", async () => {
  const options = relionOptions([await readRelionParamsFile(await seedFile())]);
  const rows = relionParameterRows(relionOptionsFor(options, SEED_DC));
  assert.deepEqual(rows, [
    { key: 'motioncor_gainreference', value: '/dls/m07/data/2019/em19865-17/processing/gain.mrc' },
    { key: 'voltage', value: '300' },
    { key: 'Cs', value: '2.7' },
    { key: 'ctffind_do_phaseshift', value: '0' },
    { key: 'angpix', value: '1.23' },
    { key: 'motioncor_binning', value: '1' },
    { key: 'motioncor_doseperframe', value: '0.5' },
    { key: 'stop_after_ctf_estimation', value: '1' },
    { key: 'import_images', value: '/dls/m07/data/2019/em19865-17/raw/Frames/*.tif' },
    { key: 'acquisition_software', value: 'SerialEM' },
  ]);
  // And back: the processing side reads the same options from the rows.
  assert.deepEqual(relionOptionsFromRows(rows, 'processing job 1'), relionOptionsFor(options, SEED_DC));
});

test('--param KEY=VALUE overrides the file and is typed by the option it names', async () => {
  const options = relionOptions([
    await readRelionParamsFile(await seedFile()),
    parseParamOverrides(['voltage=200', 'ctffind_do_phaseshift=true', 'angpix = 0.85', 'motioncor_binning=2']),
  ]);
  assert.equal(options.voltage, 200);
  assert.equal(options.ctffind_do_phaseshift, true);
  assert.equal(options.angpix, 0.85);
  assert.equal(options.motioncor_binning, 2);
  const rows = new Map(relionParameterRows(options).map((r) => [r.key, r.value]));
  assert.equal(rows.get('ctffind_do_phaseshift'), '1');
  assert.equal(rows.get('voltage'), '200');
  refused(() => parseParamOverrides(['voltage']), 'InvalidOption', /--param voltage is not KEY=VALUE/);
});

test('an unknown option is refused, saying where it came from and listing the known ones', async () => {
  const file = await readRelionParamsFile(await seedFile(SEED_FILE.replace('"voltage": 300', '"voltage": 300, "kV": 300')));
  refused(() => relionOptions([file]), 'UnknownOption', /unknown RELION option kV \(.*relion_msg.json\)/, /known options: acquisition_software, import_images, .*voltage, Cs, .*do_class3d_pass2/);
  refused(() => relionOptions([parseParamOverrides(['angpix=1', 'motioncor_doseperframe=1', 'gain=x', 'dose=2'])]), 'UnknownOption', /unknown RELION options gain \(--param\), dose \(--param\)/);
  assert.ok(RELION_OPTION_NAMES.includes('stop_after_ctf_estimation'));
});

test("values outside SynchWeb's ranges and choices are refused, every problem at once", () => {
  const base = { angpix: 1.1, motioncor_doseperframe: 1, stop_after_ctf_estimation: true };
  refused(
    () => relionOptions([{ label: 'relion_msg.json', values: { ...base, voltage: 250, Cs: 2.5, angpix: 0.01, motioncor_binning: 3, motioncor_doseperframe: 'lots' } }]),
    'InvalidOption',
    /voltage=250 \(relion_msg.json\) should be one of 200, 300/,
    /Cs=2.5 \(relion_msg.json\) should be one of 1.4, 2, 2.7/,
    /angpix=0.01 \(relion_msg.json\) should be at least 0.02/,
    /motioncor_binning=3 .* should be one of 1, 2/,
    /motioncor_doseperframe="lots" .* should be a number/,
  );
  refused(() => relionOptions([{ label: 'x', values: { voltage: 300 } }]), 'InvalidOption', /angpix is required/, /motioncor_doseperframe is required/);
  refused(() => relionOptions([{ label: 'x', values: { ...base, ctffind_do_phaseshift: 'maybe' } }]), 'InvalidOption', /should be true or false/);
  refused(() => relionOptions([{ label: 'x', values: { ...base, ...PARTICLES, extract_boxsize: 256.5 } }]), 'InvalidOption', /extract_boxsize=256.5 .* should be a whole number/);
  refused(() => relionOptions([{ label: 'x', values: { ...base, ...PARTICLES, autopick_LoG_diam_min: 200 } }]), 'InvalidOption', /autopick_LoG_diam_min \(200\) must be less than autopick_LoG_diam_max \(180\)/);
  // Defaults where SynchWeb's form had them.
  const d = relionOptions([{ label: 'x', values: base }]);
  assert.deepEqual([d.voltage, d.Cs, d.motioncor_binning, d.ctffind_do_phaseshift], [300, 2.7, 1, false]);
});

test('going past CTF estimation needs the particle options, and records them with their defaults', () => {
  const base = { angpix: 1.1, motioncor_doseperframe: 1 };
  refused(
    () => relionOptions([{ label: 'x', values: base }]),
    'InvalidOption',
    /autopick_LoG_diam_min, autopick_LoG_diam_max, mask_diameter, extract_boxsize, extract_small_boxsize are required unless stop_after_ctf_estimation is true/,
  );
  const o = relionOptions([{ label: 'x', values: { ...base, ...PARTICLES } }]);
  const rows = relionParameterRows(relionOptionsFor(o, { imageDirectory: '/d/raw/', fileTemplate: 'GridSquare_*/Data/*.tiff' }));
  assert.deepEqual(
    rows.map((r) => `${r.key}=${r.value}`),
    [
      'voltage=300',
      'Cs=2.7',
      'ctffind_do_phaseshift=0',
      'angpix=1.1',
      'motioncor_binning=1',
      'motioncor_doseperframe=1',
      'stop_after_ctf_estimation=0',
      'do_class2d=1',
      'do_class3d=1',
      'use_fsc_criterion=0',
      'autopick_do_cryolo=0',
      'autopick_LoG_diam_min=150',
      'autopick_LoG_diam_max=180',
      'mask_diameter=190',
      'extract_boxsize=256',
      'extract_small_boxsize=64',
      'import_images=/d/raw/GridSquare_*/Data/*.tiff',
      'acquisition_software=EPU',
    ],
  );
  // Stopping after CTF estimation: the particle options are not recorded (SynchWeb's `stored` rule).
  const stopped = relionOptions([{ label: 'x', values: { ...base, ...PARTICLES, stop_after_ctf_estimation: true } }]);
  assert.equal(relionParameterRows(stopped).some((r) => r.key === 'mask_diameter' || r.key === 'do_class2d'), false);
  // No 3D classification: no FSC criterion.
  const no3d = relionOptions([{ label: 'x', values: { ...base, ...PARTICLES, do_class3d: false } }]);
  assert.equal(no3d.use_fsc_criterion, undefined);
});

test('movies decide import_images, acquisition_software and eer_grouping', () => {
  const o = relionOptions([{ label: 'x', values: { angpix: 1, motioncor_doseperframe: 1, stop_after_ctf_estimation: true, eer_grouping: 30 } }]);
  const eer = relionOptionsFor(o, { imageDirectory: '/dls/m12/data/2021/cm28212-1/raw/', fileTemplate: 'GridSquare_*/Data/*.eer' });
  assert.equal(eer.import_images, '/dls/m12/data/2021/cm28212-1/raw/GridSquare_*/Data/*.eer');
  assert.equal(eer.acquisition_software, 'EPU');
  assert.equal(eer.eer_grouping, 30);
  const { eer_grouping: _, ...noGrouping } = o;
  assert.equal(relionOptionsFor(noGrouping, { imageDirectory: '/x/', fileTemplate: 'Frames/*.eer' }).eer_grouping, 20);
  const tif = relionOptionsFor(o, { imageDirectory: '/x', fileTemplate: 'Frames/*.tif' });
  assert.equal(tif.eer_grouping, undefined);
  assert.equal(tif.acquisition_software, 'SerialEM');
  assert.equal(relionOptionsFor(o, { imageDirectory: '/x', fileTemplate: 'movies/*.mrc' }).acquisition_software, undefined);
  refused(
    () => relionOptionsFor({ ...o, import_images: '/elsewhere/*.tif' }, { imageDirectory: '/x/', fileTemplate: 'Frames/*.tif' }),
    'InvalidOption',
    /import_images \(\/elsewhere\/\*.tif\) names other movies than .* \(\/x\/Frames\/\*.tif\)/,
  );
});

test('rows written by other tools are read too (true/false text), and an unknown row names the job', () => {
  const o = relionOptionsFromRows(
    [
      { key: 'angpix', value: '1.0' },
      { key: 'motioncor_doseperframe', value: '0.8' },
      { key: 'stop_after_ctf_estimation', value: 'true' },
      { key: 'ctffind_do_phaseshift', value: 'false' },
    ],
    'processing job 6611642',
  );
  assert.deepEqual([o.angpix, o.stop_after_ctf_estimation, o.ctffind_do_phaseshift], [1, true, false]);
  refused(() => relionOptionsFromRows([{ key: 'wantCalculate', value: '1' }], 'processing job 6611642'), 'UnknownOption', /wantCalculate \(processing job 6611642\)/);
});

test('a parameters file that is missing, not JSON or not an object is refused', async () => {
  await assert.rejects(readRelionParamsFile('/nonexistent/relion_msg.json'), /cannot read the RELION parameters file \/nonexistent\/relion_msg.json/);
  await assert.rejects(readRelionParamsFile(await seedFile('{"voltage": 300,')), /is not JSON/);
  await assert.rejects(readRelionParamsFile(await seedFile('[1, 2]')), /does not hold a JSON object/);
});

test('the Start form offers every option a user sets, with the defaults the options themselves apply', () => {
  const fields = relionFormFields();
  assert.deepEqual(fields.map((f) => f.name).sort(), RELION_OPTION_NAMES.filter((n) => n !== 'import_images').sort());
  // A form filled with its defaults and the required values is what relionOptions makes of those values alone.
  const required = { angpix: 1.23, motioncor_doseperframe: 0.5, autopick_LoG_diam_min: 100, autopick_LoG_diam_max: 150, mask_diameter: 160, extract_boxsize: 256, extract_small_boxsize: 64 };
  const defaults = Object.fromEntries(fields.filter((f) => f.default !== undefined && !f.eerOnly).map((f) => [f.name, f.default]));
  assert.deepEqual(relionOptions([{ label: 'form', values: { ...defaults, ...required } }]), relionOptions([{ label: 'given', values: required }]));
  assert.deepEqual(fields.find((f) => f.name === 'voltage'), { name: 'voltage', label: 'Voltage (kV)', kind: 'choice', choices: [200, 300], default: 300, afterCtf: false });
  assert.deepEqual(fields.filter((f) => f.required === 'always').map((f) => f.name), ['angpix', 'motioncor_doseperframe']);
  for (const f of fields.filter((f) => f.choices)) {
    for (const c of f.choices!) relionOptions([{ label: 'form', values: { ...required, [f.name]: c } }]);
  }
});
