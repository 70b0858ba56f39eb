// The actions of ferry cp | sync | check | cleanup, loaded only when one of them runs (see transfer.ts).
import type { Command } from 'commander';
import { errorMessage, exitCodeOfOutcome } from '../../errors.ts';
import { openTransferState } from '../../ledger/transfer-state/open.ts';
import type { TransferState } from '../../ledger/transfer-state/state.ts';
import { displayKey } from '../../storage/names.ts';
import { openStore } from '../../storage/open.ts';
import type { PendingUpload } from '../../storage/store.ts';
import { check, checkPassed } from '../../transfer/check.ts';
import type { CheckReport } from '../../transfer/check.ts';
import { openEndpoints } from '../../transfer/endpoints.ts';
import { newStats, transfer } from '../../transfer/engine.ts';
import type { TransferEvent, TransferStats } from '../../transfer/engine.ts';
import { Output, formatBytes, formatDuration } from '../output.ts';
import { storeOptionsFrom } from '../store-options.ts';

/** Runs `fn` with the transfer state of the ledger the command names (see ledger/transfer-state/open.ts). */
async function withState<T>(ledger: string | undefined, out: Output, fn: (state: TransferState) => Promise<T>): Promise<T> {
  const state = await openTransferState(ledger, { note: (m) => out.warn(m) });
  try {
    return await fn(state);
  } finally {
    await state.close();
  }
}

export async function runCheck(src: string, dst: string, cmd: Command): Promise<void> {
  const o = cmd.optsWithGlobals();
  const out = new Output({ json: o.json });
  const report = await withState(o.ledger, out, async (state) => {
    const ends = await openEndpoints(src, dst, storeOptionsFrom(o));
    let compared = 0;
    const stop = out.startProgress(() => ({ unit: 'files', done: compared }));
    try {
      return await check(ends.src, ends.dst, {
        checksum: o.checksum, include: o.include, exclude: o.exclude, onlyKeys: ends.onlyKeys, renameKey: ends.renameKey,
        onProgress: (n) => (compared = n), state,
      });
    } finally {
      stop();
      await Promise.all([ends.src.close(), ends.dst.close()]);
    }
  });
  printCheck(out, report);
  process.exitCode = exitCodeOfOutcome({ failed: checkPassed(report) ? 0 : 1 });
}

export async function runTransfer(src: string, dst: string, cmd: Command, isSync: boolean): Promise<void> {
  const o = cmd.optsWithGlobals();
  const out = new Output({ json: o.json });
  await withState(o.ledger, out, (state) => transferWith(state, src, dst, o, out, isSync));
}

async function transferWith(state: TransferState, src: string, dst: string, o: Record<string, any>, out: Output, isSync: boolean): Promise<void> {
  const storeOpts = storeOptionsFrom(o);
  const ends = await openEndpoints(src, dst, storeOpts, { uploadJournal: state.uploads });
  const abort = new AbortController();
  const onSignal = () => {
    out.warn('interrupted: stopping; run the same command again to resume');
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stats = newStats();
  const started = Date.now();
  const stop = o.dryRun
    ? () => {}
    : out.startProgress(() => ({
        unit: 'files',
        done: stats.copiedFiles + stats.skippedFiles,
        total: stats.listingDone ? stats.listed : undefined,
        bytesDone: stats.copiedBytes + stats.skippedBytes,
        bytesTotal: stats.listingDone ? stats.bytesTotal : undefined,
        failed: stats.failedFiles,
      }));
  const onEvent = (e: TransferEvent) => {
    if (out.json) {
      if (e.type !== 'skip') out.event(e.type, e);
    } else if (e.type === 'failed') out.warn(`failed: ${displayKey(e.key)}: ${e.error}`);
    else if (e.type === 'delete-skipped') out.warn(`not deleting anything: ${e.reason}`);
    else if (o.dryRun && e.type === 'copy') out.line(`would copy ${displayKey(e.key)} (${formatBytes(e.size)}): ${e.reason}`);
    else if (o.dryRun && e.type === 'delete') out.line(`would delete ${displayKey(e.key)}`);
  };
  try {
    await transfer(ends.src, ends.dst, {
      state, checksum: o.checksum, delete: isSync ? o.delete : false, dryRun: o.dryRun, transfers: o.transfers,
      bwlimit: o.bwlimit, multipartThreshold: storeOpts.multipartThreshold, include: o.include, exclude: o.exclude,
      onlyKeys: ends.onlyKeys, renameKey: ends.renameKey, signal: abort.signal, onEvent,
    }, stats);
  } catch (e) {
    if (!abort.signal.aborted) throw e;
  } finally {
    stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all([ends.src.close(), ends.dst.close()]);
  }
  printSummary(out, stats, Date.now() - started, Boolean(o.dryRun), abort.signal.aborted);
  process.exitCode = exitCodeOfOutcome({ failed: stats.failedFiles, incomplete: abort.signal.aborted });
}

function printSummary(out: Output, s: TransferStats, ms: number, dryRun: boolean, interrupted: boolean): void {
  const { failures: _f, listingDone: _l, bytesInFlight: _b, ...counts } = s;
  out.event('summary', { ...counts, seconds: ms / 1000, dryRun, interrupted });
  if (dryRun) {
    out.line(`dry run: ${s.listed} files listed, nothing written`);
    return;
  }
  const rate = s.copiedBytes / Math.max(ms / 1000, 0.001);
  out.line(`copied   ${s.copiedFiles} files, ${formatBytes(s.copiedBytes)} (${formatBytes(rate)}/s), each checked against what the destination holds`);
  out.line(`skipped  ${s.skippedFiles} files, ${formatBytes(s.skippedBytes)} unchanged at the destination${unchangedBy(s)}`);
  if (s.deletedFiles) out.line(`deleted  ${s.deletedFiles} files not in the source`);
  out.line(`failed   ${s.failedFiles} files`);
  const complete = s.listingDone && !interrupted;
  if (complete) {
    out.line(`verified ${s.verifiedFiles} of ${s.listed} files in ${formatDuration(ms / 1000)}${s.unchangedBySizeAndTime ? ` (${s.unchangedBySizeAndTime} by sizes and times only)` : ''}`);
  } else {
    out.line(`interrupted after ${formatDuration(ms / 1000)}: ${s.verifiedFiles} files verified of the ${s.listed} listed so far; the source was not listed to the end, so what else it holds was not compared`);
  }
  if (s.failedFiles) out.line(`${s.failedFiles} file(s) failed: fix the cause and run the same command again; verified files are not sent again`);
}

/** What showed the skipped files unchanged, in words: nothing more is claimed than was compared. */
function unchangedBy(s: TransferStats): string {
  const parts = [
    s.unchangedByContent && `${s.unchangedByContent} by content (CRC32C)`,
    s.unchangedByDigest && `${s.unchangedByDigest} by the destination's digest, still the one verified when copied`,
    s.unchangedBySizeAndTime && `${s.unchangedBySizeAndTime} by sizes and times: contents not read (--checksum reads them)`,
  ].filter(Boolean);
  return parts.length ? `: ${parts.join('; ')}` : '';
}

function printCheck(out: Output, r: CheckReport): void {
  out.event('check', { ...r, passed: checkPassed(r) });
  const list = (title: string, keys: string[]) => {
    out.line(`${String(keys.length).padStart(8)} ${title}`);
    for (const k of keys.slice(0, 50)) out.line(`           ${displayKey(k)}`);
    if (keys.length > 50) out.line(`           ... and ${keys.length - 50} more (--json lists all)`);
  };
  const by = r.by === 'crc32c' ? 'by size and content (CRC32C)' : 'by size only: contents not read (--checksum reads them)';
  out.line(`${String(r.compared).padStart(8)} files compared, ${r.matching} matching, ${by}`);
  list('missing on destination', r.missingOnDestination);
  list('missing on source', r.missingOnSource);
  list('differing', r.differing.map((d) => `${d.key}: ${d.reason}`));
  if (r.errors.length) list('could not be compared', r.errors.map((d) => `${d.key}: ${d.error}`));
  if (!checkPassed(r)) out.line(r.errors.length && r.missingOnDestination.length + r.missingOnSource.length + r.differing.length === 0 ? 'NOT PROVEN: some entries could not be compared' : 'DIFFERENCES FOUND');
  else if (r.by === 'crc32c') out.line('OK: the destination holds every source file, with the same size and content (CRC32C)');
  else out.line('OK: the destination holds every source file with the same size; contents not compared (--checksum compares them)');
}

const ORIGIN_TEXT: Record<PendingUpload['origin'], string> = {
  journaled: "Ferry's, journaled (a re-run of the same copy resumes it)",
  unjournaled: "Ferry's, begun by a worker stopped before it could journal it",
  stale: 'journal row of an upload the server no longer holds',
  foreign: "another tool's",
};

export async function runCleanup(dstUrl: string, cmd: Command): Promise<void> {
  const o = cmd.optsWithGlobals();
  const out = new Output({ json: o.json });
  const failed = await withState(o.ledger, out, async (state) => {
    const dst = await openStore(dstUrl, storeOptionsFrom(o), { uploadJournal: state.uploads });
    try {
      const uploads = dst.multipartUploads;
      if (!uploads) {
        out.event('cleanup', { destination: dst.url, found: 0, aborted: 0 });
        out.line(`no multipart uploads at ${dst.url}: only S3 stores keep them until they are completed or aborted`);
        return 0;
      }
      const found: PendingUpload[] = [];
      for await (const u of uploads.list()) found.push(u);
      const now = Date.now();
      const minAgeMs = o.olderThan * 1000;
      let aborted = 0;
      let errors = 0;
      const rows: string[][] = [];
      for (const u of found) {
        let action = '';
        if (o.abort) {
          if (u.origin === 'foreign' && !o.all) action = 'left (another tool\'s: --all aborts it)';
          else if (now - u.lastActivityMs < minAgeMs) action = `left (active ${formatDuration((now - u.lastActivityMs) / 1000)} ago)`;
          else {
            try {
              await uploads.abort(u);
              aborted++;
              action = u.origin === 'stale' ? 'forgotten' : 'aborted';
            } catch (e) {
              errors++;
              action = `failed: ${errorMessage(e)}`;
              out.warn(`could not abort ${u.key} (upload ${u.uploadId}): ${errorMessage(e)}`);
            }
          }
        }
        out.event('upload', { ...u, action });
        const age = formatDuration((now - (u.initiatedMs ?? u.lastActivityMs)) / 1000);
        rows.push([u.origin, u.key, u.uploadId ?? '-', age, u.startedBy ?? '-', ...(o.abort ? [action] : [])]);
      }
      const count = (origin: PendingUpload['origin']) => found.filter((u) => u.origin === origin).length;
      out.event('cleanup', { destination: dst.url, found: found.length, aborted, failed: errors });
      if (rows.length) out.table([['ORIGIN', 'KEY', 'UPLOAD ID', 'AGE', 'STARTED BY', ...(o.abort ? ['DONE'] : [])], ...rows]);
      out.line(`${found.length} unfinished upload(s) under ${dst.url}`);
      for (const origin of ['journaled', 'unjournaled', 'stale', 'foreign'] as const) {
        if (count(origin)) out.line(`  ${String(count(origin)).padStart(5)} ${ORIGIN_TEXT[origin]}`);
      }
      if (o.abort) out.line(`aborted or forgotten ${aborted}${errors ? `, ${errors} failed` : ''}`);
      else if (found.some((u) => u.origin !== 'foreign')) out.line(`abort Ferry's with: ferry cleanup ${dstUrl} --abort`);
      return errors;
    } finally {
      await dst.close();
    }
  });
  process.exitCode = exitCodeOfOutcome({ failed });
}
