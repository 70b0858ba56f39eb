// Where the time of a multipart upload goes, part by part, published on a diagnostics channel
// (node:diagnostics_channel) for whoever subscribes: the transfer benchmark preloads a subscriber
// into `ferry cp` and prints the breakdown. Nothing is measured or kept unless someone listens.
import diagnostics_channel from 'node:diagnostics_channel';

export const PART_TIMINGS_CHANNEL = 'ferry:upload-part';
const channel = diagnostics_channel.channel(PART_TIMINGS_CHANNEL);

/** performance.now() instants in one part's life; a step that did not happen is left out. */
export interface PartTiming {
  key: string;
  partNumber: number;
  bytes: number;
  /** The worker asked the part-buffer budget for its buffer (its first part only; else = granted). */
  asked: number;
  granted: number;
  /** The source's bytes were in the buffer. */
  read: number;
  /** CRC32C computed. */
  crc: number;
  /** MD5 computed (absent for a part reused from an earlier run). */
  md5?: number;
  /** The request was started (after the worker's previous part was answered). */
  sending?: number;
  /** The last byte of the request was handed to the kernel. */
  flushed?: number;
  /** The server's answer arrived. */
  answered?: number;
  /** The part was written to the upload journal. */
  journaled?: number;
}

/** Whether anyone listens: callers skip the clock reads otherwise. */
export function timingParts(): boolean {
  return channel.hasSubscribers;
}

export function publishPartTiming(t: PartTiming): void {
  channel.publish(t);
}
