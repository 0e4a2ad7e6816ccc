// Dynamic resetting (AutoGAN §3.3): when the spread of the recent G or D losses collapses, the
// shared GAN has stalled (e.g. mode collapse) and is re-initialised. Moving windows of both
// losses; fires when either full window's variance (the paper's "resetting variance threshold"
// and the reference code's comparison) or, as an option, standard deviation is under the
// threshold. The reference checks only once the G window is full.
import { RESET_DEFAULTS } from '../defaults';

export interface ResetConfig {
  /** Window length (reference 500). @default 500 */
  window: number;
  /** Threshold (reference 1e-3). @default 1e-3 */
  threshold: number;
  /**
   * 'variance': what the paper's text ("variance threshold 1e-3") and the reference code compare;
   * 'std': the standard deviation (at 1e-3 that asks for a variance under 1e-6, 1000× stricter:
   * resets then almost never fire).
   * @default 'variance'
   */
  measure: 'std' | 'variance';
}

export const DEFAULT_RESET: ResetConfig = { ...RESET_DEFAULTS };

export interface ResetState {
  g: number[];
  d: number[];
}

/** The windows' spreads at the last check (null: that window was not full yet). */
export interface ResetSpread {
  g: number | null;
  d: number | null;
}

export class ResetDetector {
  g: number[] = [];
  d: number[] = [];
  /** What the last check() compared with the threshold: the series a report plots against it. */
  lastSpread: ResetSpread = { g: null, d: null };

  constructor(readonly config: ResetConfig) {}

  pushD(loss: number): void {
    push(this.d, loss, this.config.window);
  }

  pushG(loss: number): void {
    push(this.g, loss, this.config.window);
  }

  spread(values: number[]): number {
    const n = values.length;
    if (n < 2) return 0;
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    return this.config.measure === 'std' ? Math.sqrt(variance) : variance;
  }

  /** True when a reset is due; the windows are cleared then, as in the reference. */
  check(): boolean {
    const full = (w: number[]) => w.length >= this.config.window;
    this.lastSpread = {
      g: full(this.g) ? this.spread(this.g) : null,
      d: full(this.d) ? this.spread(this.d) : null,
    };
    if (!full(this.g)) return false;
    const { g, d } = this.lastSpread;
    const fire = g! < this.config.threshold || (d !== null && d < this.config.threshold);
    if (fire) this.clear();
    return fire;
  }

  clear(): void {
    this.g = [];
    this.d = [];
  }

  state(): ResetState {
    return { g: [...this.g], d: [...this.d] };
  }

  restore(s: ResetState): void {
    this.g = [...s.g];
    this.d = [...s.d];
  }
}

function push(arr: number[], x: number, max: number): void {
  arr.push(x);
  if (arr.length > max) arr.shift();
}
