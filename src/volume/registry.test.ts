// The registry as BigArrays.jl's AlignedBigArray reads it: both line forms, offsets kept as they
// are (negative too), z in the order listed; anything else is an error naming the line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError } from '../errors.ts';
import { parseRegistry } from './registry.ts';

test('7- and 6-field lines place HDF5 sections (<name>.h5) at their offsets, in the order listed', () => {
  const text = ['1,12_prealigned 0 -16383 -4095 30000 28000 1', '1,13_prealigned -16000 -4000 29500 28100 0', '2,1_prealigned 0 512 -7 100 200 1', ''].join('\n');
  assert.deepEqual(parseRegistry(text, 'registry.txt'), [
    { line: 1, file: '1,12_prealigned.h5', format: 'hdf5', placement: { x: -16383, y: -4095, width: 30000, height: 28000 } },
    { line: 2, file: '1,13_prealigned.h5', format: 'hdf5', placement: { x: -16000, y: -4000, width: 29500, height: 28100 } },
    { line: 3, file: '2,1_prealigned.h5', format: 'hdf5', placement: { x: 512, y: -7, width: 100, height: 200 } },
  ]);
});

test('a name that is already a file (.h5, .png, .tif) is taken as it is; one name a line is the plain list; blank lines, comments and CRLF pass', () => {
  const placed = parseRegistry('# aligned\r\na/s1.png 3 4 10 20 1\r\n\r\nb/s2.TIFF 0 0 0 10 20 1\r\nc/s3.hdf5 -1 -2 10 20 1\r\n', 'r.txt');
  assert.deepEqual(
    placed.map((e) => [e.line, e.file, e.format]),
    [[2, 'a/s1.png', 'image'], [4, 'b/s2.TIFF', 'image'], [5, 'c/s3.hdf5', 'hdf5']],
  );
  const plain = parseRegistry('s0.png\ns1.png   # the second\n/abs/s2.tif\nsection3\n', 'r.txt');
  assert.deepEqual(plain, [
    { line: 1, file: 's0.png', format: 'image' },
    { line: 2, file: 's1.png', format: 'image' },
    { line: 3, file: '/abs/s2.tif', format: 'image' },
    { line: 4, file: 'section3.h5', format: 'hdf5' },
  ]);
});

test('any other line is an error that names the registry, the line and its text', () => {
  const fails = (text: string, message: RegExp) =>
    assert.throws(() => parseRegistry(text, '/data/registry.txt'), (e: unknown) => e instanceof FerryError && message.test(e.message) && /xoff yoff xdim ydim/.test(e.hint ?? ''));
  fails('a 0 0 10 10 1\nb 0 0 10 10\n', /^line 2 of the registry \/data\/registry\.txt has 5 fields, not 6 or 7 \(or 1\): "b 0 0 10 10"$/);
  fails('a 0 0 10 10 1 1 1\n', /line 1 .* has 8 fields/);
  fails('a x0 0 10 10 1\n', /line 1 .* not a whole number .*"a x0 0 10 10 1"/);
  fails('a 0 0 1.5 10 1\n', /line 1 .* not a whole number/);
  fails('a 0 0 0 10 1\n', /line 1 .* gives a section of 0x10 pixels/);
  fails('a 0 0 10 -3 1\n', /gives a section of 10x-3 pixels/);
  fails('\n# nothing\n', /lists no sections/);
  assert.throws(() => parseRegistry('a 0 0 10 10 1\nb.png\n', 'r.txt'), /line 2 of the registry r\.txt names only a file, but line 1 places its section/);
});
