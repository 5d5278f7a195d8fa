/**
 * The map's motion: each new set of codes is reached from wherever the points
 * are on screen now (mid-flight included), over a fixed time with an ease,
 * and the plotted square of the plane widens or narrows along with them.
 * Pure arithmetic on typed arrays, so a unit test can step through it.
 */
import { latentExtent } from '../digits/map-transform.ts';

/** Slow out, slow in: 0 → 0, ½ → ½, 1 → 1. */
export function easeInOutCubic(t: number): number {
  const x = Math.min(1, Math.max(0, t));
  return x < 0.5 ? 4 * x * x * x : 1 - (-2 * x + 2) ** 3 / 2;
}

/** `out[i] = a[i] + (b[i] - a[i]) * k`; `out` may be `a`. */
export function lerpInto(out: Float32Array, a: Float32Array, b: Float32Array, k: number): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = a[i]! + (b[i]! - a[i]!) * k;
  return out;
}

/**
 * Half the side of the square the map shows for these codes: all but the
 * furthest 0.1% of coordinates (a whole class can sit at the edge of a map
 * still forming), and at least the prior's ±`minHalf`.
 */
export function mapHalf(z: Float32Array, minHalf = 3): number {
  return latentExtent(z, { minHalf, quantile: 0.999, margin: 0.08 }).half;
}

export class PointTween {
  private from = new Float32Array(0);
  private to = new Float32Array(0);
  private readonly now = { points: new Float32Array(0) };
  private startedAt = -Infinity;
  private halfFrom: number;
  private halfTo: number;

  constructor(
    readonly durationMs = 250,
    readonly minHalf = 3,
  ) {
    this.halfFrom = this.halfTo = mapHalf(new Float32Array(0), minHalf);
  }

  /** Codes the points have reached (or will reach): the last target. */
  get target(): Float32Array {
    return this.to;
  }

  /**
   * Sends the points to `z` from where they are at `time`. The first codes,
   * or a different number of them, start from the origin: the map forms out of the prior's centre.
   */
  retarget(z: Float32Array, time: number): void {
    const from = this.to.length === z.length ? this.at(time).slice() : new Float32Array(z.length);
    this.halfFrom = this.half(time);
    this.halfTo = mapHalf(z, this.minHalf);
    this.from = from;
    this.to = z.slice();
    this.now.points = new Float32Array(z.length);
    this.startedAt = time;
  }

  /** Forgets every point (a reset); the square goes back to the prior's. */
  clear(): void {
    this.from = new Float32Array(0);
    this.to = new Float32Array(0);
    this.now.points = new Float32Array(0);
    this.halfFrom = this.halfTo = mapHalf(new Float32Array(0), this.minHalf);
    this.startedAt = -Infinity;
  }

  /** 0 at a retarget, 1 once the points have arrived. */
  progress(time: number): number {
    return this.durationMs > 0 ? easeInOutCubic((time - this.startedAt) / this.durationMs) : 1;
  }

  moving(time: number): boolean {
    return time - this.startedAt < this.durationMs;
  }

  /** The points at `time` (a view that the next call overwrites). */
  at(time: number): Float32Array {
    const k = this.progress(time);
    if (k >= 1) return this.to;
    return lerpInto(this.now.points, this.from, this.to, k);
  }

  /** The half-side of the plotted square at `time`. */
  half(time: number): number {
    return this.halfFrom + (this.halfTo - this.halfFrom) * this.progress(time);
  }
}
