// Grey images (PNG, TIFF, JPEG) through sharp (libvips): what a file holds, its pixels (or a
// region of them) as raw samples, and raw samples encoded as PNG or JPEG. Callers frame the
// pixels (a section of a stack, a chunk laid out X by Y*Z) and word the errors; sharp's own
// errors pass through.
import sharp from 'sharp';

/** A local file's path, which libvips reads itself (and seeks in), or the image's bytes. */
export type ImageInput = string | Uint8Array;

export type GreyDepth = 'uint8' | 'uint16';

export interface ImageHeader {
  /** sharp's name of the format: png, tiff, jpeg, ... */
  format: string;
  width: number;
  height: number;
  channels: number;
  pages: number;
  /** Sample type as libvips names it: uchar, ushort, float, ... */
  sampleType: string;
  /** The sample type as a grey depth: uint8 or uint16, undefined for any other. */
  depth: GreyDepth | undefined;
}

export async function readImageHeader(input: ImageInput): Promise<ImageHeader> {
  const meta = await sharp(input).metadata();
  return {
    format: meta.format,
    width: meta.width,
    height: meta.height,
    channels: meta.channels,
    pages: meta.pages ?? 1,
    sampleType: meta.depth,
    depth: meta.depth === 'uchar' ? 'uint8' : meta.depth === 'ushort' ? 'uint16' : undefined,
  };
}

export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface GreyPixels {
  /** Samples row by row; 16-bit ones in host order (little-endian on every platform Node runs on). */
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

/** The image's pixels as grey samples of `depth`, all of them or only `region`. */
export async function decodeGrey(input: ImageInput, depth: GreyDepth, region?: Region): Promise<GreyPixels> {
  let img = sharp(input, { limitInputPixels: false });
  if (region) img = img.extract(region);
  const sixteen = depth === 'uint16';
  const { data, info } = await img
    .toColourspace(sixteen ? 'grey16' : 'b-w')
    .raw(sixteen ? { depth: 'ushort' } : {})
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

export type GreyEncoding = { format: 'png'; level: number } | { format: 'jpeg'; quality: number };

/** Encodes width x height grey samples (8- or 16-bit for PNG, 8-bit for JPEG) held row by row. */
export async function encodeGrey(pixels: Uint8Array | Uint16Array, width: number, height: number, as: GreyEncoding): Promise<Buffer> {
  const img = sharp(pixels, { raw: { width, height, channels: 1 } });
  if (as.format === 'jpeg') return img.toColourspace('b-w').jpeg({ quality: as.quality }).toBuffer();
  return img
    .toColourspace(pixels instanceof Uint16Array ? 'grey16' : 'b-w')
    .png({ compressionLevel: as.level })
    .toBuffer();
}
