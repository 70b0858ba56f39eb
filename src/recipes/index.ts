// Every workflow Ferry knows, one line each: a new workflow is a folder here plus its line below.
// Each module is loaded only when its workflow is used (a worker loads them all for their job
// kinds, which themselves load only when a job of theirs is claimed).
import type { RecipeCatalog } from '../runtime/orchestrator.ts';
import type { Recipe } from '../runtime/recipe.ts';

const RECIPES: Record<string, () => Promise<{ recipe: Recipe<any> }>> = {
  demo: () => import('./demo/recipe.ts'),
  jump: () => import('./jump/recipe.ts'),
  fibsem: () => import('./fibsem/recipe.ts'),
  mouselight: () => import('./mouselight/recipe.ts'),
  volume: () => import('./volume/recipe.ts'),
  relion: () => import('./relion/recipe.ts'),
};

export const catalog: RecipeCatalog = {
  names: () => Object.keys(RECIPES),
  load: async (name) => (Object.hasOwn(RECIPES, name) ? (await RECIPES[name]()).recipe : undefined),
};
