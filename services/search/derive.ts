// Deriving architectures: sample M candidates from the policy (or uniformly), score each on the
// supernet, keep the top K with their LSTM states (the next stage's beams).
import { randomArch } from '../../core/arch/encoding';
import { type Beam } from '../../core/controller/controller';
import { Rng } from '../../core/rng';
import { type SearchParams } from '../../pipeline/search-params';
import { derivedSeed, loadController, loadTrainer, noHooks, type Hooks, type SearchRefs } from './context';
import { scoreArch } from './scoring';

export interface DeriveResult {
  topK: Array<{ arch: number[]; score: number }>;
  beams: Beam[];
  candidates: Array<{ arch: number[]; score: number }>;
}

export interface DeriveOptions {
  /** Candidates sampled (M). */
  m: number;
  /** Kept (K). */
  k: number;
  /** Images generated to score each candidate. @default the search's rewardImages */
  images?: number;
  /**
   * Names the draw: a derive with another tag samples other candidates (from its own RNG stream,
   * not the controller's) and scores them on other images. @default the search's own derive
   */
  tag?: string;
}

/** Samples M candidates from the policy (or uniformly), scores each on the supernet, keeps the top K. */
export async function derive(
  p: SearchParams,
  s: SearchRefs,
  opts: DeriveOptions,
  hooks: Hooks = noHooks,
): Promise<DeriveResult> {
  const { m, k, tag } = opts;
  const scoring = opts.images ? { ...p, rewardImages: opts.images } : p;
  const ctrl = s.controller ? (await loadController(p, s.controller)).controller : null;
  const { trainer } = await loadTrainer(p, s.supernet);
  try {
    if (trainer.stage !== s.stage) trainer.setStage(s.stage);
    let done = 0;
    const score = async (arch: number[]) => {
      const seed = tag ? derivedSeed(p, 'derive', tag, done) : derivedSeed(p, 'derive', s.iteration, done);
      const v = await scoreArch(scoring, trainer, arch, s.stage, seed);
      hooks.progress({ step: ++done, total: m });
      await hooks.atStepBoundary();
      return v;
    };
    if (!ctrl) {
      const rng = new Rng(
        tag ? derivedSeed(p, 'random-derive', tag) : derivedSeed(p, 'random-derive', s.iteration),
      );
      const candidates = [];
      for (let i = 0; i < m; i++) {
        const arch = randomArch(s.stage, rng);
        candidates.push({ arch, score: await score(arch) });
      }
      const top = [...candidates].sort((a, b) => b.score - a.score).slice(0, k);
      return { topK: top, beams: [], candidates };
    }
    const sampling = tag ? new Rng(derivedSeed(p, 'derive-sample', tag)) : undefined;
    const r = await ctrl.topK(m, k, score, s.beams.length ? s.beams : undefined, sampling);
    return {
      topK: r.beams.map((b) => ({ arch: b.arch, score: b.score })),
      beams: r.beams.map(({ arch, h, c }) => ({ arch, h, c })),
      candidates: r.candidates,
    };
  } finally {
    trainer.dispose();
    ctrl?.dispose();
  }
}
