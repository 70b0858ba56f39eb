// The RELION view's routes: a visit's data collections and jobs, the Start form's fields, and
// Start / Stop (state-changing: token and same-origin checked; absent when read-only). Without
// processing records (`ferry serve --ispyb`) they answer 404 with what to do.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FerryError } from '../errors.ts';
import type { RelionService, StartForm } from './relion.ts';

export interface RelionContext {
  relion: RelionService | undefined;
  readOnly: boolean;
  mutation: (req: FastifyRequest, reply: FastifyReply) => Promise<void> | void;
}

const VALUE = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } as const;

export function relionRoutes(app: FastifyInstance, c: RelionContext): void {
  const service = (): RelionService => {
    if (!c.relion) {
      throw new FerryError('this page shows no RELION processing: no processing records were given', {
        hint: 'start it with `ferry serve --ispyb mysql://USER:PASSWORD@HOST:PORT/DATABASE`',
        code: 'NotFound',
      });
    }
    return c.relion;
  };

  app.get('/api/relion/form', async () => ({ fields: service().form() }));

  app.get(
    '/api/relion/visits/:visit',
    { schema: { params: { type: 'object', properties: { visit: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['visit'] } } },
    async (req) => service().visit((req.params as { visit: string }).visit),
  );

  if (c.readOnly) return;

  app.post(
    '/api/relion/start',
    {
      preHandler: c.mutation,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['visit', 'imageDirectory', 'fileTemplate', 'params'],
          properties: {
            visit: { type: 'string', minLength: 1, maxLength: 100 },
            imageDirectory: { type: 'string', minLength: 1, maxLength: 1024 },
            fileTemplate: { type: 'string', minLength: 1, maxLength: 1024 },
            params: { type: 'object', additionalProperties: VALUE, maxProperties: 100 },
            stopAndRestart: { type: 'boolean' },
          },
        },
      },
    },
    async (req) => {
      const b = req.body as Omit<StartForm, 'stopAndRestart'> & { stopAndRestart?: boolean };
      return service().start({ ...b, stopAndRestart: Boolean(b.stopAndRestart) });
    },
  );

  app.post(
    '/api/relion/stop',
    {
      preHandler: c.mutation,
      schema: { body: { type: 'object', additionalProperties: false, required: ['processingJobId'], properties: { processingJobId: { type: 'integer', minimum: 1 } } } },
    },
    async (req) => service().stop((req.body as { processingJobId: number }).processingJobId),
  );
}
