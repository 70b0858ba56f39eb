import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FerryError } from '../errors.ts';
import { tempDir } from '../testing/tree.ts';
import { findBlock, parseStar, tableRecords } from './star.ts';

test("STAR files RELION writes: default_pipeline.star's key-value and loop blocks, job.star's quoted values", async () => {
  const dir = await tempDir();
  try {
    await writeFile(join(dir, 'default_pipeline.star'), 'data_pipeline_general\n_rlnPipeLineJobCounter 1\n');
    const bin = process.env.FERRY_RELION_BIN ? join(process.env.FERRY_RELION_BIN, 'relion_pipeliner') : 'relion_pipeliner';
    const options = "Input movies STAR file: == Import/job001/movies.star;Use RELION's own implementation? == Yes;Gain flip: == Flip upside down (1);";
    execFileSync(bin, ['--addJob', 'MotionCorr', '--addJobOptions', options], { cwd: dir });

    const pipeline = parseStar(await readFile(join(dir, 'default_pipeline.star'), 'utf8'));
    assert.deepEqual(pipeline.map((b) => b.name), ['pipeline_general', 'pipeline_processes', 'pipeline_nodes', 'pipeline_input_edges', 'pipeline_output_edges']);
    assert.equal(findBlock(pipeline, 'pipeline_general')!.values.get('rlnPipeLineJobCounter'), '2');
    assert.deepEqual(tableRecords(findBlock(pipeline, 'pipeline_processes')), [
      { rlnPipeLineProcessName: 'MotionCorr/job001/', rlnPipeLineProcessAlias: 'None', rlnPipeLineProcessType: '1', rlnPipeLineProcessStatus: '1' },
    ]);
    assert.deepEqual(findBlock(pipeline, 'pipeline_nodes')!.table!.columns, ['rlnPipeLineNodeName', 'rlnPipeLineNodeType']);

    const job = parseStar(await readFile(join(dir, 'MotionCorr/job001/job.star'), 'utf8'));
    const values = new Map(tableRecords(findBlock(job, 'joboptions_values')).map((r) => [r.rlnJobOptionVariable, r.rlnJobOptionValue]));
    assert.equal(values.get('gain_flip'), 'Flip upside down (1)');
    assert.equal(values.get('fn_defect'), '');
    assert.equal(values.get('do_own_motioncor'), 'Yes');
    assert.equal(findBlock(job, 'job')!.values.get('rlnJobType'), '1');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a block without a table has no records; comments and blank lines are skipped', () => {
  const blocks = parseStar('# version 30001\n\ndata_general\n\n_rlnImageSizeX  256 # width\n_rlnMicrographMovieName  \'a b.mrc\'\n');
  assert.equal(blocks[0].values.get('rlnImageSizeX'), '256');
  assert.equal(blocks[0].values.get('rlnMicrographMovieName'), 'a b.mrc');
  assert.deepEqual(tableRecords(blocks[0]), []);
  assert.deepEqual(tableRecords(undefined), []);
});

test('malformed STAR text is a FerryError naming the line', () => {
  const fails = (text: string, re: RegExp) => assert.throws(() => parseStar(text, 'x.star'), (e: unknown) => e instanceof FerryError && re.test(e.message));
  fails('_rlnA 1\n', /^x\.star, line 1: "_rlnA" comes before any data_ block$/);
  fails('data_a\nloop_\n_rlnA #1\n_rlnB #2\n1 2\n3\n', /^x\.star, line 6: 1 values, the loop has 2 columns$/);
  fails('data_a\n_rlnA "open\n', /unclosed quote in STAR file x\.star, line 2/);
  fails('data_a\n_rlnA 1\n5 6\n', /line 3: a value line outside any loop_/);
});
