// Cryo-EM movies with a known drift, for tests and benchmarks: one smooth random texture, each frame
// a view of it moved by a planted shift per frame (sub-pixel shifts by bilinear interpolation of the
// smooth texture), plus independent noise per frame. Motion correction should find the planted drift.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { seededRandom } from './random.ts';
import { encodeMrc } from '../formats/mrc.ts';

export interface MovieSpec {
  frames: number;
  width: number;
  height: number;
  /** Specimen movement in pixels from one frame to the next (frame f is displaced by f * drift). */
  drift: { x: number; y: number };
  /** Standard deviation of the per-frame noise, relative to the texture's (1). */
  noise?: number;
  pixelSize?: number;
  seed?: number;
}

/** Texture of unit variance: white noise smoothed by three box blurs (close to a Gaussian blur). */
function texture(w: number, h: number, rnd: () => number, radius = 3): Float32Array {
  let a: Float32Array = new Float32Array(w * h);
  for (let i = 0; i < a.length; i++) a[i] = rnd() - 0.5;
  const blur = (src: Float32Array, stride: number, step: number, lines: number, len: number) => {
    const dst = new Float32Array(src.length);
    for (let l = 0; l < lines; l++) {
      const base = l * stride;
      for (let i = 0; i < len; i++) {
        let s = 0;
        let n = 0;
        for (let k = Math.max(0, i - radius); k <= Math.min(len - 1, i + radius); k++, n++) s += src[base + k * step];
        dst[base + i * step] = s / n;
      }
    }
    return dst;
  };
  for (let pass = 0; pass < 3; pass++) {
    a = blur(a, w, 1, h, w); // rows
    a = blur(a, 1, w, w, h); // columns
  }
  let sum = 0;
  let sq = 0;
  for (const x of a) {
    sum += x;
    sq += x * x;
  }
  const mean = sum / a.length;
  const sd = Math.sqrt(sq / a.length - mean * mean);
  for (let i = 0; i < a.length; i++) a[i] = (a[i] - mean) / sd;
  return a;
}

/** Frames x height x width float32 samples of one movie. */
export function syntheticMovie(spec: MovieSpec): Float32Array {
  const rnd = seededRandom(spec.seed ?? 1);
  const { frames, width, height, drift } = spec;
  const margin = Math.ceil(Math.max(Math.abs(drift.x), Math.abs(drift.y)) * frames) + 2;
  const tw = width + 2 * margin;
  const th = height + 2 * margin;
  const tex = texture(tw, th, rnd);
  const noise = spec.noise ?? 0.5;
  const out = new Float32Array(frames * width * height);
  // Irwin-Hall noise (three uniforms, scaled to unit variance): near-Gaussian at a tenth of the cost.
  const gauss = () => (rnd() + rnd() + rnd() - 1.5) * 2;
  for (let f = 0; f < frames; f++) {
    // Frame f shows the texture moved by f * drift: its pixel (x, y) is the texture at (x, y) - f * drift.
    const sx = margin - f * drift.x;
    const sy = margin - f * drift.y;
    const ix = Math.floor(sx);
    const iy = Math.floor(sy);
    const fx = sx - ix;
    const fy = sy - iy;
    const w00 = (1 - fx) * (1 - fy);
    const w10 = fx * (1 - fy);
    const w01 = (1 - fx) * fy;
    const w11 = fx * fy;
    let o = f * width * height;
    for (let y = 0; y < height; y++) {
      let t = (y + iy) * tw + ix;
      for (let x = 0; x < width; x++, t++) {
        const v = w00 * tex[t] + w10 * tex[t + 1] + w01 * tex[t + tw] + w11 * tex[t + tw + 1];
        out[o++] = v + noise * gauss();
      }
    }
  }
  return out;
}

/** Writes one MRC movie per relative path under root (each with its own texture and noise); returns the paths. */
export async function writeSyntheticMovies(root: string, names: string[], spec: MovieSpec): Promise<string[]> {
  const paths: string[] = [];
  for (const [i, name] of names.entries()) {
    const p = join(root, name);
    await mkdir(dirname(p), { recursive: true });
    const data = syntheticMovie({ ...spec, seed: (spec.seed ?? 1) * 1000 + i });
    await writeFile(p, encodeMrc(data, { nx: spec.width, ny: spec.height, nz: spec.frames, pixelSize: spec.pixelSize ?? 1 }));
    paths.push(p);
  }
  return paths;
}
