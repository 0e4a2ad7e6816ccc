// The search's iterations without Temporal, as the workflow orders them: grow when the stage
// schedule says so, shared training, controller training.
import {
  grow,
  initSearch,
  trainController,
  trainShared,
  type ControllerResult,
  type SearchRefs,
  type SharedResult,
} from '../../services/search';
import { stageAt, type SearchParams } from '../../pipeline/search-params';

/** A fresh search's references at iteration 0. */
export async function startSearch(p: SearchParams): Promise<SearchRefs> {
  const init = await initSearch(p);
  return { supernet: init.supernet, controller: init.controller, beams: [], stage: init.stage, iteration: 0 };
}

/** Iteration `it` from `s`; the references after it and what its phases returned. */
export async function searchIteration(
  p: SearchParams,
  s: SearchRefs,
  it: number,
): Promise<{ s: SearchRefs; shared: SharedResult; controller?: ControllerResult }> {
  let refs: SearchRefs = { ...s, iteration: it };
  if (stageAt(p, it) > refs.stage) {
    const g = await grow(p, refs);
    refs = { ...refs, beams: g.beams, controller: g.controller, supernet: g.supernet, stage: g.stage };
  }
  const shared = await trainShared(p, refs);
  refs.supernet = shared.supernet;
  if (!refs.controller) return { s: refs, shared };
  const controller = await trainController(p, refs);
  refs.controller = controller.controller;
  return { s: refs, shared, controller };
}
