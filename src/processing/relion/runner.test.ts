// The RELION runner against real RELION 3.1 from Debian (scripts/services/relion.sh): synthetic
// movies with a planted drift go through relion_pipeliner's Import and MotionCorr, and the drift
// RELION's own motion correction measures must be the drift planted. Then stops, crashes and bad input.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { access, chmod, lstat, mkdir, readFile, readlink, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FerryError } from '../../errors.ts';
import { parseMrc } from '../../formats/mrc.ts';
import { findBlock, parseStar, tableRecords } from '../../formats/star.ts';
import { tempDir } from '../../testing/tree.ts';
import { groupOf, isRunning } from '../local-process.ts';
import { END_FILE, LOG_FILE, MARKER_FILE, readMarker, RUN_FILE } from './files.ts';
import type { Marker } from './files.ts';
import { correctedMicrographs, globalShifts, prepareProject, readStatus, startPipeline, stopPipeline, waitForEnd, waitingSupervisor } from './runner.ts';
import type { PipelineStatus, WaitingSupervisor } from './runner.ts';
import { QUEUE_SAFETY_NET_MS } from '../../testing/until.ts';
import { makeLongVisit, makeVisit, TEMPLATE, testParams, until } from '../../testing/relion-runner.ts';

const roots: string[] = [];
async function root(): Promise<string> {
  const r = await tempDir('ferry-relion-');
  roots.push(r);
  return r;
}
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

const exists = (p: string) => access(p).then(() => true, () => false);
const DRIFT = { x: 0.7, y: -0.4 };
const SMALL = { frames: 8, width: 256, height: 256, drift: DRIFT };
// Movies whose MotionCorr takes long enough (about 0.1 s each) to be caught half-way.
const LONG = { frames: 8, width: 512, height: 512, drift: DRIFT };

async function pipelineStatuses(projectDir: string): Promise<Record<string, string>> {
  const blocks = parseStar(await readFile(join(projectDir, 'default_pipeline.star'), 'utf8'));
  return Object.fromEntries(tableRecords(findBlock(blocks, 'pipeline_processes')).map((r) => [r.rlnPipeLineProcessName, r.rlnPipeLineProcessStatus]));
}

/** Starts a long run and waits until MotionCorr has finished its first micrograph. */
async function longRunHalfway(count = 60) {
  const visit = await makeLongVisit(await root(), count, LONG);
  const { projectDir } = await prepareProject({ ...visit, fileTemplate: TEMPLATE, ids: { processingJobId: 7 }, params: testParams() });
  const handle = await startPipeline(projectDir);
  const running = await until('MotionCorr to finish a micrograph', async () => {
    const s = await readStatus(projectDir);
    assert.equal(s.state, 'running', `ended early: ${s.message}`);
    return s.progress.done >= 1 && s.jobs[1].state === 'running' && s;
  });
  const marker = (await readMarker(projectDir))!;
  return { projectDir, handle, running, marker };
}

async function assertNothingLeft(projectDir: string, marker: Marker): Promise<void> {
  assert.equal(await exists(join(projectDir, MARKER_FILE)), false, 'the marker is removed');
  assert.deepEqual(await groupOf(marker.pipeliner!), [], 'no process of the pipeline is left');
  assert.equal(await exists(join(projectDir, '.relion_lock')), false, 'no RELION lock is left');
}

describe('RELION runner with RELION 3.1', () => {
  test('motion correction of movies with a planted drift: micrographs exist and the drift found is the drift planted', async () => {
    const visit = await makeVisit(await root(), 3, SMALL);
    const { projectDir, run } = await prepareProject({
      visitDir: visit.visitDir,
      imageDirectory: `${visit.imageDirectory}/`,
      fileTemplate: TEMPLATE,
      ids: { processingJobId: 6611642, dataCollectionId: 6018191 },
      params: testParams({ acquisition_software: 'EPU', do_class2d: 0 }),
    });
    assert.equal(projectDir, join(visit.visitDir, 'processed', 'relion_6611642'));
    assert.equal(await readlink(join(projectDir, 'Movies')), '../../raw');
    assert.deepEqual(run.jobs, [
      { type: 'Import', name: 'Import/job001/' },
      { type: 'MotionCorr', name: 'MotionCorr/job002/' },
    ]);
    assert.deepEqual(run.ignored, ['acquisition_software', 'do_class2d']);
    assert.equal((await readStatus(projectDir)).state, 'queued');

    const handle = await startPipeline(projectDir);
    assert.equal(handle.how, 'started');
    assert.equal(await exists(join(projectDir, MARKER_FILE)), true, 'the marker exists while it runs');
    const seen: PipelineStatus[] = [];
    const end = await waitForEnd(handle, { onProgress: (s) => seen.push(s), pollMs: 100 });
    assert.equal(end.state, 'success', end.message);
    assert.equal(end.message, 'done: 3/3 micrographs motion-corrected');
    assert.deepEqual(end.progress, { done: 3, total: 3, unit: 'micrographs' });
    assert.ok(seen.some((s) => s.state === 'running'), 'progress was reported while running');
    for (const s of [...seen, end]) assert.ok(s.message.length <= 80, s.message);
    assert.equal(await exists(join(projectDir, MARKER_FILE)), false, 'the marker is gone once it ended');
    // An ordinary RELION project: RELION's own pipeline says both jobs succeeded.
    assert.deepEqual(await pipelineStatuses(projectDir), { 'Import/job001/': '2', 'MotionCorr/job002/': '2' });
    assert.equal(await exists(join(projectDir, 'MotionCorr/job002/RELION_JOB_EXIT_SUCCESS')), true);

    const mics = await correctedMicrographs(projectDir, 'MotionCorr/job002/');
    assert.equal(mics.length, 3);
    for (const mic of mics) {
      const image = parseMrc(await readFile(join(projectDir, mic.micrograph)), mic.micrograph);
      assert.deepEqual([image.header.nx, image.header.ny, image.header.nz], [256, 256, 1]);
      // RELION reports shifts that undo the drift, relative to the first frame: -drift * (frame - 1).
      const shifts = await globalShifts(projectDir, mic.metadata);
      assert.equal(shifts.length, 8);
      for (const s of shifts) {
        assert.ok(Math.abs(s.x + DRIFT.x * (s.frame - 1)) < 0.2, `${mic.micrograph} frame ${s.frame}: x ${s.x}`);
        assert.ok(Math.abs(s.y + DRIFT.y * (s.frame - 1)) < 0.2, `${mic.micrograph} frame ${s.frame}: y ${s.y}`);
      }
    }

    // Start again: the ended run is left as it ended; stopping it is an error.
    assert.equal((await startPipeline(projectDir)).how, 'ended');
    await assert.rejects(stopPipeline(projectDir), (e: unknown) => e instanceof FerryError && /already ended \(success/.test(e.message));
    // Preparing the same processing job again gives the same project, untouched.
    const again = await prepareProject({ ...visit, fileTemplate: TEMPLATE, ids: { processingJobId: 6611642 }, params: testParams() });
    assert.deepEqual(again.run, run);
  });

  test('stop mid-run: RELION aborts the job, the process group is ended, the run is stopped', async () => {
    const { projectDir, running, marker } = await longRunHalfway();
    assert.match(running.message, /^MotionCorr running: \d+\/60 micrographs motion-corrected$/);
    assert.equal(running.runner?.pid, marker.supervisor.pid);
    const end = await stopPipeline(projectDir);
    assert.equal(end.state, 'stopped');
    assert.match(end.message, /^stopped: \d+\/60 micrographs motion-corrected$/);
    assert.ok(end.progress.done >= 1 && end.progress.done < 60, `${end.progress.done} done`);
    assert.deepEqual(end.jobs.map((j) => j.state), ['success', 'aborted']);
    assert.equal(await exists(join(projectDir, 'MotionCorr/job002/RELION_JOB_EXIT_ABORTED')), true);
    await assertNothingLeft(projectDir, marker);
    await assert.rejects(stopPipeline(projectDir), /already ended \(stopped/);
    assert.equal((await startPipeline(projectDir)).how, 'ended');
  });

  test('kill -9 of the whole run: the status is a failure, never running, and the marker is cleaned', async () => {
    const { projectDir, marker } = await longRunHalfway();
    // The supervisor first, so that it cannot see its pipeliner die and end the run itself.
    process.kill(marker.supervisor.pid, 'SIGKILL');
    process.kill(-marker.pipeliner!.pid, 'SIGKILL');
    const s = await until('the killed run to be seen as ended', async () => {
      const st = await readStatus(projectDir);
      return st.state !== 'running' && st;
    });
    assert.equal(s.state, 'failure');
    assert.equal(s.message, `processing died: its supervisor (pid ${marker.supervisor.pid} on ${marker.supervisor.host}) is gone`);
    // RELION's view agrees: the job that was running has ended in failure.
    assert.equal(await exists(join(projectDir, 'MotionCorr/job002/RELION_JOB_EXIT_FAILURE')), true);
    await assertNothingLeft(projectDir, marker);
    assert.equal((await readStatus(projectDir)).state, 'failure', 'the failure is recorded, not recomputed');
  });

  test('kill -9 of the supervisor alone: its orphaned RELION processes are ended when the status is read', async () => {
    const { projectDir, marker } = await longRunHalfway();
    process.kill(marker.supervisor.pid, 'SIGKILL');
    await until('the supervisor to be gone', async () => !(await isRunning(marker.supervisor)));
    assert.ok((await groupOf(marker.pipeliner!)).length > 0, 'relion_pipeliner and MotionCorr outlive the supervisor');
    const s = await readStatus(projectDir);
    assert.equal(s.state, 'failure');
    await assertNothingLeft(projectDir, marker);
  });

  test('kill -9 of relion_pipeliner: the supervisor ends the job it left behind and records a failure', async () => {
    const { projectDir, handle, marker } = await longRunHalfway();
    process.kill(marker.pipeliner!.pid, 'SIGKILL');
    const end = await waitForEnd(handle, { pollMs: 100 });
    assert.equal(end.state, 'failure');
    assert.equal(end.message, 'relion_pipeliner ended before MotionCorr/job002/: killed by SIGKILL');
    await assertNothingLeft(projectDir, marker);
  });

  test('a marker from a lost node (no heartbeat) is reported as a failure and cleaned', async () => {
    const visit = await makeVisit(await root(), 1, SMALL);
    const { projectDir } = await prepareProject({ ...visit, fileTemplate: TEMPLATE, ids: { processingJobId: 8 }, params: testParams() });
    const lost = { host: 'lost-node', bootId: 'b', pid: 4242, startTicks: '1' };
    await writeFile(join(projectDir, MARKER_FILE), JSON.stringify({ supervisor: lost, pipeliner: { ...lost, pid: 4243 }, startedAt: new Date().toISOString() }));
    assert.equal((await readStatus(projectDir)).state, 'running', 'a fresh heartbeat from another host counts as alive');
    const old = new Date(Date.now() - 5 * 60_000);
    await utimes(join(projectDir, MARKER_FILE), old, old);
    const s = await readStatus(projectDir);
    assert.equal(s.state, 'failure');
    assert.equal(s.message, 'processing died: no heartbeat from pid 4242 on lost-node for 60 s');
    assert.equal(await exists(join(projectDir, MARKER_FILE)), false);
  });

  test('a worker that dies mid-run: the pipeline carries on and the next attempt attaches to it', async () => {
    const visit = await makeLongVisit(await root(), 30, LONG);
    const { projectDir } = await prepareProject({ ...visit, fileTemplate: TEMPLATE, ids: { processingJobId: 9 }, params: testParams() });
    // A stand-in for a worker's job handler: start, then wait (it never gets to the end).
    const worker = spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `import { startPipeline, waitForEnd } from ${JSON.stringify(new URL('./runner.ts', import.meta.url).href)};
       await waitForEnd(await startPipeline(${JSON.stringify(projectDir)}));`,
    ], { stdio: 'ignore' });
    await until('the worker to start the pipeline', async () => (await readStatus(projectDir)).progress.done >= 1);
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    const handle = await startPipeline(projectDir);
    assert.equal(handle.how, 'attached');
    // A wait given up (the worker's lease lost) stops waiting, not the pipeline.
    const giveUp = new AbortController();
    const waiting = waitForEnd(handle, { signal: giveUp.signal });
    giveUp.abort();
    await assert.rejects(waiting, { name: 'AbortError' });
    assert.equal((await readStatus(projectDir)).state, 'running');
    const end = await waitForEnd(handle, { pollMs: 100 });
    assert.equal(end.state, 'success', end.message);
    assert.deepEqual(end.progress, { done: 30, total: 30, unit: 'micrographs' });
  });

  test('the run inside a Slurm job records its job id; scancel ends it as a failure with nothing left', async () => {
    if (!process.env.SLURM_CONF) throw new Error('SLURM_CONF is not set: start Slurm with scripts/services/slurm.sh');
    const r = await root();
    const visit = await makeLongVisit(r, 200, LONG);
    const { projectDir } = await prepareProject({ ...visit, fileTemplate: TEMPLATE, ids: { processingJobId: 10 }, params: testParams() });
    const script = join(r, 'handler.mjs');
    await writeFile(script, `import { startPipeline, waitForEnd } from ${JSON.stringify(new URL('./runner.ts', import.meta.url).href)};
await waitForEnd(await startPipeline(${JSON.stringify(projectDir)}));\n`);
    const jobId = execFileSync('sbatch', ['--parsable', `--output=${join(r, 'slurm-%j.out')}`, '--wrap', `exec ${process.execPath} ${script}`], { encoding: 'utf8' }).trim();
    const running = await until('the Slurm job to run the pipeline', async () => {
      const s = await readStatus(projectDir);
      return s.progress.done >= 1 && s;
    }, QUEUE_SAFETY_NET_MS);
    assert.equal(running.runner?.slurmJobId, jobId);
    const marker = (await readMarker(projectDir))!;
    execFileSync('scancel', [jobId]);
    const end = await until('the cancelled run to end', async () => {
      const s = await readStatus(projectDir);
      return s.state !== 'running' && s;
    });
    assert.equal(end.state, 'failure');
    assert.match(end.message, /SIGTERM/);
    await assertNothingLeft(projectDir, marker);
  });

  test('with a CTFFIND executable: CtfFind is scheduled, small movies get a power spectrum size that fits, and its failure is reported', async () => {
    const r = await root();
    const visit = await makeVisit(r, 2, SMALL);
    // CTFFIND is not in Debian: this stand-in fails the way a broken install would.
    const ctffind = join(r, 'ctffind');
    await writeFile(ctffind, '#!/bin/sh\necho "ctffind: cannot run here" >&2\nexit 1\n');
    await chmod(ctffind, 0o755);
    const { projectDir, run } = await prepareProject({ ...visit, fileTemplate: TEMPLATE, ids: { processingJobId: 11 }, params: testParams({ ctffind4_exe: ctffind }) });
    assert.deepEqual(run.jobs.map((j) => j.name), ['Import/job001/', 'MotionCorr/job002/', 'CtfFind/job003/']);
    const job = await readFile(join(projectDir, 'MotionCorr/job002/job.star'), 'utf8');
    assert.match(job, /do_save_ps\s+Yes/);
    assert.match(job, /other_args\s+"--ps_size 184"/);
    const end = await waitForEnd(await startPipeline(projectDir), { pollMs: 100 });
    // RELION's CtfFind skips every micrograph CTFFIND fails on and ends in "success"; Ferry does not.
    assert.equal(end.state, 'failure');
    assert.equal(end.message, 'CtfFind/job003/ estimated no CTF (0/2): ctffind: cannot run here');
    assert.deepEqual(end.jobs.map((j) => j.state), ['success', 'success', 'success']);
    // RELION's default --ps_size 512 would have aborted MotionCorr on 256 x 256 movies.
    for (const mic of await correctedMicrographs(projectDir, 'MotionCorr/job002/')) {
      assert.equal(await exists(join(projectDir, mic.micrograph.replace(/\.mrc$/, '_PS.mrc'))), true);
    }
  });
});

describe('RELION runner: bad input', () => {
  const prepare = async (over: Partial<Parameters<typeof prepareProject>[0]> = {}) => {
    const visit = await makeVisit(await root(), 1, SMALL);
    return prepareProject({ ...visit, fileTemplate: TEMPLATE, ids: { processingJobId: 1 }, params: testParams(), ...over });
  };
  const ferryError = (re: RegExp, hint?: RegExp) => (e: unknown) => {
    assert.ok(e instanceof FerryError, String(e));
    assert.match(e.message, re);
    if (hint) assert.match(e.hint ?? '', hint);
    assert.equal(e.exitCode, 2);
    return true;
  };

  test('no movies match the template', async () => {
    await assert.rejects(prepare({ fileTemplate: 'GridSquare_*/Data/*.tif' }), ferryError(/^no movies match GridSquare_\*\/Data\/\*\.tif in .*\/raw$/));
  });

  test('the image directory is missing', async () => {
    const r = await root();
    await assert.rejects(prepare({ imageDirectory: join(r, 'nope') }), ferryError(/^image directory .*\/nope does not exist$/, /--image-directory/));
  });

  test('RELION is not installed: the Debian package is named', async () => {
    const empty = join(await root(), 'bin');
    await mkdir(empty);
    await assert.rejects(prepare({ relionBin: empty }), ferryError(/^RELION is not installed: relion_pipeliner was not found in .*\/bin/, /Debian package relion/));
  });

  test("relion_it's import_images must be the image directory and template", async () => {
    const visit = await makeVisit(await root(), 1, SMALL);
    const given = (importImages: string, id: number) =>
      prepareProject({ ...visit, fileTemplate: TEMPLATE, ids: { processingJobId: id }, params: testParams({ import_images: importImages }) });
    assert.equal((await given(`${visit.imageDirectory}/${TEMPLATE}`, 2)).run.movies, 1);
    await assert.rejects(given(`${visit.imageDirectory}/Frames/*.tif`, 3), ferryError(/^import_images .*\/raw\/Frames\/\*\.tif is not .*\/raw\/GridSquare_\*\/Data\/\*\.mrc$/));
  });

  test('options: unknown, missing, wrong type, and a missing gain reference', async () => {
    await assert.rejects(prepare({ params: testParams({ voltge: 300 }) }), ferryError(/^unknown RELION option: voltge$/));
    const { angpix: _, ...noAngpix } = testParams();
    await assert.rejects(prepare({ params: noAngpix }), ferryError(/^RELION option angpix is required$/));
    await assert.rejects(prepare({ params: testParams({ voltage: 'high' }) }), ferryError(/^RELION option voltage = "high" is not a number$/));
    await assert.rejects(prepare({ params: testParams({ motioncor_gainreference: '/nowhere/gain.mrc' }) }), ferryError(/^gain reference \/nowhere\/gain\.mrc \(motioncor_gainreference\) does not exist$/));
  });

  test('a failed prepare leaves no project folder; a folder Ferry did not make is never written into', async () => {
    const visit = await makeVisit(await root(), 1, SMALL);
    await assert.rejects(prepareProject({ ...visit, fileTemplate: TEMPLATE, ids: { processingJobId: 5 }, params: testParams({ motioncor_gainflip: 'sideways' }) }));
    assert.equal(await exists(join(visit.visitDir, 'processed', 'relion_5')), false);
    await mkdir(join(visit.visitDir, 'processed', 'relion_5'), { recursive: true });
    await assert.rejects(
      prepareProject({ ...visit, fileTemplate: TEMPLATE, ids: { processingJobId: 5 }, params: testParams() }),
      ferryError(/relion_5 already exists and is not a project Ferry prepared/),
    );
  });

  test('a supervisor started while the project is prepared starts RELION only when told; a dropped one never does', async () => {
    const visit = await makeVisit(await root(), 2, SMALL);
    const prepareWith = (id: number) => {
      let waiting: WaitingSupervisor | undefined;
      const projectDir = join(visit.visitDir, 'processed', `relion_${id}`);
      const prepared = prepareProject({ ...visit, fileTemplate: TEMPLATE, ids: { processingJobId: id }, params: testParams(), onFolder: (f) => (waiting = waitingSupervisor(f, projectDir)) });
      return prepared.then((p) => ({ ...p, waiting: waiting! }));
    };
    const told = await prepareWith(11);
    assert.equal(told.here, true);
    const handle = await told.waiting.start();
    assert.equal(handle.how, 'started');
    const end = await waitForEnd(handle);
    assert.equal(end.state, 'success', end.message);
    assert.match(await readFile(join(told.projectDir, LOG_FILE), 'utf8'), /started relion_pipeliner/, 'its log is in the project');

    const dropped = await prepareWith(12);
    await dropped.waiting.drop();
    assert.equal(await exists(join(dropped.projectDir, MARKER_FILE)), false);
    assert.equal(await exists(join(dropped.projectDir, 'Import/job001/run.out')), false, 'RELION never ran');
    const again = await startPipeline(dropped.projectDir);
    assert.equal(again.how, 'started', 'the project can still be started');
    assert.equal((await waitForEnd(again)).state, 'success');
  });

  test('a project stopped before it started never starts', async () => {
    const { projectDir } = await prepare();
    assert.equal((await stopPipeline(projectDir)).state, 'stopped');
    assert.equal((await startPipeline(projectDir)).how, 'ended');
    assert.equal(await exists(join(projectDir, 'Import/job001/run.out')), false, 'RELION never ran');
    assert.equal((await lstat(join(projectDir, END_FILE))).isFile(), true);
    assert.ok(await exists(join(projectDir, RUN_FILE)));
    assert.ok(!(await exists(join(projectDir, LOG_FILE))) || !/started relion_pipeliner/.test(await readFile(join(projectDir, LOG_FILE), 'utf8')));
  });
});
