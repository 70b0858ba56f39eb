// Visits with synthetic movies for the RELION runner's tests and benchmark, and waiting for states.
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSyntheticMovies } from './synthetic-movies.ts';
import type { MovieSpec } from './synthetic-movies.ts';
import type { RelionParams } from '../processing/relion/options.ts';

export const TEMPLATE = 'GridSquare_*/Data/*.mrc';

export interface TestVisit {
  visitDir: string;
  imageDirectory: string;
  movies: string[];
}

/** EPU's layout: raw/GridSquare_<n>/Data/FoilHole_<m>_fractions.mrc, spread over two grid squares. */
export function movieNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `GridSquare_${1 + (i % 2)}/Data/FoilHole_${100 + i}_fractions.mrc`);
}

/** A visit folder (named like cm28212-1) under root with `count` movies in raw/. */
export async function makeVisit(root: string, count: number, spec: MovieSpec): Promise<TestVisit> {
  const visitDir = join(root, 'cm28212-1');
  const imageDirectory = join(visitDir, 'raw');
  const movies = await writeSyntheticMovies(imageDirectory, movieNames(count), spec);
  return { visitDir, imageDirectory, movies };
}

/**
 * A visit whose `count` movies are links to one movie: as many micrographs as wanted for little disk,
 * so a MotionCorr job runs long enough to be stopped or killed half-way.
 */
export async function makeLongVisit(root: string, count: number, spec: MovieSpec): Promise<TestVisit> {
  const visit = await makeVisit(root, 1, spec);
  const names = movieNames(count);
  for (const name of names.slice(1)) {
    const p = join(visit.imageDirectory, name);
    await mkdir(join(p, '..'), { recursive: true });
    await symlink(visit.movies[0], p);
  }
  return { ...visit, movies: names.map((n) => join(visit.imageDirectory, n)) };
}

/** SynchWeb's options for synthetic movies: 1 Å pixels, one patch (global drift only), two threads. */
export function testParams(extra: RelionParams = {}): RelionParams {
  return {
    angpix: 1,
    voltage: 300,
    Cs: 2.7,
    motioncor_doseperframe: 1,
    motioncor_patches_x: 1,
    motioncor_patches_y: 1,
    motioncor_threads: 2,
    ...extra,
  };
}

/** Polls until a state holds (RELION runs in processes of its own). */
export { until } from './until.ts';
