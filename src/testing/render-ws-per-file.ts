// One render-ws stand-in for the tests of a file: started before them, closed after them, and its
// faults cleared after each test, so one test's failures do not leak into the next.
import { after, afterEach, before } from 'node:test';
import { startRenderWs } from './render-ws.ts';
import type { TestRenderWs } from './render-ws.ts';

export function renderWsPerFile(): { readonly ws: TestRenderWs } {
  let ws: TestRenderWs | undefined;
  before(async () => {
    ws = await startRenderWs();
  });
  after(() => ws?.close());
  afterEach(() => {
    for (const k of Object.keys(ws!.faults)) delete ws!.faults[k as keyof TestRenderWs['faults']];
  });
  return {
    get ws() {
      if (!ws) throw new Error('the render-ws stand-in starts before the first test');
      return ws;
    },
  };
}
