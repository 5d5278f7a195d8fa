/**
 * Geometry of the latent map: which part of the latent plane the map shows,
 * and the conversions between latent coordinates and CSS pixels. The map is
 * square and centred on the prior's mean, so distances look the same along
 * both axes, as they do for an isotropic N(0, I) prior.
 */

/** The square [-half, half]^2 of the latent plane shown by the map. */
export interface Extent {
  half: number;
}

/** The drawing area in CSS pixels; the plot fills it minus `inset` on each side. */
export interface Viewport {
  size: number;
  inset: number;
}

export interface ExtentOptions {
  /** The map always shows at least ±this (the bulk of a standard normal). */
  minHalf?: number;
  /** Outliers beyond this quantile of |z| do not widen the map. */
  quantile?: number;
  /** Fraction of room left around the furthest point kept. */
  margin?: number;
}

/** Picks the extent from the encoded test points: wide enough for nearly all of them and for the prior. */
export function latentExtent(z: ArrayLike<number>, options: ExtentOptions = {}): Extent {
  const { minHalf = 3, quantile = 0.995, margin = 0.06 } = options;
  const abs: number[] = [];
  for (let i = 0; i < z.length; i++) {
    const v = Math.abs(z[i]!);
    if (Number.isFinite(v)) abs.push(v);
  }
  let reach = 0;
  if (abs.length > 0) {
    abs.sort((a, b) => a - b);
    reach = abs[Math.min(abs.length - 1, Math.floor(quantile * abs.length))]!;
  }
  return { half: Math.max(minHalf, reach) * (1 + margin) };
}

function plotSize(view: Viewport): number {
  return Math.max(1, view.size - 2 * view.inset);
}

/** Latent (z1, z2) to CSS pixels; z2 grows upwards, as on a plot. */
export function toScreen(extent: Extent, view: Viewport, z1: number, z2: number): [number, number] {
  const s = plotSize(view) / (2 * extent.half);
  return [view.inset + (z1 + extent.half) * s, view.inset + (extent.half - z2) * s];
}

/** CSS pixels to latent (z1, z2), clamped to the extent so a pointer at the edge stays on the map. */
export function toLatent(extent: Extent, view: Viewport, x: number, y: number): [number, number] {
  const s = (2 * extent.half) / plotSize(view);
  const z1 = (x - view.inset) * s - extent.half;
  const z2 = extent.half - (y - view.inset) * s;
  return [clamp(z1, -extent.half, extent.half), clamp(z2, -extent.half, extent.half)];
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Tick values at a 1-2-5 step covering [lo, hi] with about `count` ticks. */
export function niceTicks(lo: number, hi: number, count = 7): number[] {
  if (!(hi > lo) || count < 1) return [];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  // Integer multiples of the step, with a little slack so -0.3 / 0.1 still counts as -3.
  for (let k = Math.ceil(lo / step - 1e-9); k <= Math.floor(hi / step + 1e-9); k++) {
    ticks.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  }
  return ticks;
}

/** One arrow-key step: a fine step normally, a coarse one with Shift. */
export function keyStep(extent: Extent, coarse: boolean): number {
  return (2 * extent.half) / (coarse ? 10 : 100);
}

export type ArrowKey = 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown';

/** Moves a latent point by one arrow-key step, staying inside the extent. */
export function stepPoint(extent: Extent, z: readonly [number, number], key: ArrowKey, coarse: boolean): [number, number] {
  const d = keyStep(extent, coarse);
  const [dx, dy] = { ArrowLeft: [-d, 0], ArrowRight: [d, 0], ArrowUp: [0, d], ArrowDown: [0, -d] }[key];
  return [clamp(z[0] + dx!, -extent.half, extent.half), clamp(z[1] + dy!, -extent.half, extent.half)];
}
