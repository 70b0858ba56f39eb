// Every module that registers job kinds. A worker loads them all before it claims anything, so a
// recipe makes its kinds runnable by adding one line here. It lives above the runtime, which
// never names a recipe.
const handlerModules: (() => Promise<unknown>)[] = [
  () => import('../runtime/builtin-handlers.ts'),
  () => import('../transfer/job.ts'),
  () => import('./fibsem/convert-job.ts'),
  () => import('./volume/handlers.ts'),
];

let loaded: Promise<unknown> | undefined;

export function loadHandlers(): Promise<unknown> {
  loaded ??= Promise.all(handlerModules.map((load) => load()));
  return loaded;
}
