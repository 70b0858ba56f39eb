import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FerryError } from '../../errors.ts';
import { projectDirFor, visitDirOf } from './project.ts';

test("the project folder is <visit>/processed/relion_<processingJobId>, the visit found from the image directory", () => {
  const visit = visitDirOf('/dls/m12/data/2021/cm28212-1/raw/', 'cm28212-1');
  assert.equal(visit, '/dls/m12/data/2021/cm28212-1');
  assert.equal(visitDirOf('/dls/m12/data/2021/CM28212-1/raw/GridSquare_1', 'cm28212-1'), '/dls/m12/data/2021/CM28212-1');
  assert.equal(projectDirFor(visit, 6611642), '/dls/m12/data/2021/cm28212-1/processed/relion_6611642');
  assert.throws(
    () => visitDirOf('/dls/m12/data/2021/cm28212-2/raw', 'cm28212-1'),
    (e: unknown) => e instanceof FerryError && e.message === 'image directory /dls/m12/data/2021/cm28212-2/raw is not inside a folder named after visit cm28212-1',
  );
});
