// The Zocalo messages SynchWeb sends to start and stop a processing job, byte for byte: PHP's
// json_encode (compact, keys in this order) of `{"parameters": {"ispyb_process": ID}}` (Zocalo then
// runs recipe `ispyb-` + ProcessingJob.recipe) and `{"recipes": ["relion-stop"], "parameters":
// {"ispyb_process": ID}}`, published to the default exchange with routing key `processing_recipe`
// (SynchWeb: api/src/Page/EM/Relion.php at e80730cf for the bodies; api/src/Queue.php and
// config_sample.php on master for the AMQP transport).
import { FerryError } from '../../errors.ts';

export const ZOCALO_ROUTING_KEY = 'processing_recipe';
export const RELION_STOP_RECIPE = 'relion-stop';

export interface ZocaloRequest {
  kind: 'start' | 'stop';
  processingJobId: number;
}

export function zocaloBody(req: ZocaloRequest): Buffer {
  const parameters = { ispyb_process: req.processingJobId };
  return Buffer.from(JSON.stringify(req.kind === 'start' ? { parameters } : { recipes: [RELION_STOP_RECIPE], parameters }));
}

/** A start or stop request from a message body; a FerryError (code `BadMessage`) says why not. */
export function decodeZocaloBody(body: Buffer): ZocaloRequest {
  let msg: unknown;
  try {
    msg = JSON.parse(body.toString('utf8'));
  } catch {
    throw bad(`not JSON: ${JSON.stringify(body.subarray(0, 80).toString('utf8'))}`);
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) throw bad('not a JSON object');
  const { recipes, parameters } = msg as { recipes?: unknown; parameters?: unknown };
  const id = (parameters as { ispyb_process?: unknown } | undefined)?.ispyb_process;
  // SynchWeb sends a number; other senders write it as text.
  const processingJobId = typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : id;
  if (typeof processingJobId !== 'number' || !Number.isSafeInteger(processingJobId) || processingJobId <= 0) {
    throw bad(`parameters.ispyb_process is ${JSON.stringify(id)}, not a processing job id`);
  }
  if (recipes === undefined || (Array.isArray(recipes) && recipes.length === 0)) return { kind: 'start', processingJobId };
  if (Array.isArray(recipes) && recipes.length === 1 && recipes[0] === RELION_STOP_RECIPE) return { kind: 'stop', processingJobId };
  throw bad(`recipes ${JSON.stringify(recipes)} is neither a RELION start (no recipes) nor ["${RELION_STOP_RECIPE}"]`);
}

function bad(why: string): FerryError {
  return new FerryError(`not a Zocalo processing request: ${why}`, { code: 'BadMessage' });
}
