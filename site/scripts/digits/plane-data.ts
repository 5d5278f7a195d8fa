/**
 * Pure helpers for the digits studio: the class palette, the latent map's
 * neighbourhoods and the quantile grid. latent-map.json itself is checked by
 * the bundle's parser (lib/bundle.ts's parseLatentMap).
 */
import type { LatentMap } from '../../../lib/bundle.ts';
import { quantileAxis } from '../../../lib/stats.ts';
import { quantizeLatent } from '../../../lib/latent-url.ts';

/**
 * Ten hues that stay apart for common colour-vision deficiencies and read on
 * both a light and a dark background (after Tableau 10, darkened where a hue
 * vanished on white).
 */
export const CLASS_COLORS = [
  '#4e79a7', '#f28e2b', '#e15759', '#4fa59e', '#59a14f',
  '#d4a72c', '#b07aa1', '#ff8fa0', '#9c755f', '#8f8a88',
] as const;

export function classColor(i: number): string {
  return CLASS_COLORS[((i % CLASS_COLORS.length) + CLASS_COLORS.length) % CLASS_COLORS.length]!;
}

export interface GridSheet {
  n: number;
  /** Latent coordinates along z1 (columns, left to right). */
  axis: number[];
  /** Row-major points, top row first: z2 decreases downwards, as on the map. Rounded to float16 like every shown point. */
  points: Float32Array;
}

/** The N x N sheet at the prior's quantiles: cell (r, c) decodes (axis[c], axis[n-1-r]). */
export function gridSheet(n: number): GridSheet {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`grid size must be a positive integer, got ${n}`);
  const axis = Array.from(quantizeLatent(quantileAxis(n)));
  const points = new Float32Array(n * n * 2);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      points[2 * (r * n + c)] = axis[c]!;
      points[2 * (r * n + c) + 1] = axis[n - 1 - r]!;
    }
  }
  return { n, axis, points };
}

/**
 * The order to decode a sheet's rows in: those on screen first (top down),
 * then those below it, then those above it (nearest first). `visible` is the
 * first and last row on screen, or null when none is.
 */
export function sheetRowOrder(n: number, visible: [number, number] | null): number[] {
  const all = Array.from({ length: n }, (_, r) => r);
  if (!visible) return all;
  const from = Math.max(0, Math.min(n - 1, visible[0]));
  const to = Math.max(from, Math.min(n - 1, visible[1]));
  return [...all.slice(from, to + 1), ...all.slice(to + 1), ...all.slice(0, from).reverse()];
}

/** The rows of an n-row sheet that a viewport shows: the sheet spans [top, top + height) in viewport pixels. */
export function visibleRows(n: number, top: number, height: number, viewportHeight: number): [number, number] | null {
  if (!(height > 0) || top >= viewportHeight || top + height <= 0) return null;
  const row = (y: number) => Math.floor(((y - top) / height) * n);
  return [Math.max(0, row(0)), Math.min(n - 1, row(viewportHeight - 1e-6))];
}

/** Which grid cell a position (in CSS pixels over a sheet of `size` pixels) falls in. */
export function gridCellAt(n: number, size: number, x: number, y: number): { row: number; col: number } | null {
  if (!(size > 0) || x < 0 || y < 0 || x >= size || y >= size) return null;
  return { row: Math.floor((y / size) * n), col: Math.floor((x / size) * n) };
}

/** Index of the point nearest to (z1, z2), or -1 for an empty map. */
export function nearestPoint(map: LatentMap, z1: number, z2: number): number {
  let best = -1;
  let bestD = Infinity;
  for (let i = 0; i < map.label.length; i++) {
    const dx = map.z[2 * i]! - z1;
    const dy = map.z[2 * i + 1]! - z2;
    const d = dx * dx + dy * dy;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

export interface Neighbourhood {
  /** The majority label among the k nearest points (ties go to the smaller label). */
  label: number;
  /** Its share of the k votes. */
  share: number;
  k: number;
  /** Latent distance to the nearest point: large means the decoder draws where no test digit lies. */
  nearest: number;
}

/** What the map "says" at (z1, z2): the majority label among the k nearest encoded test digits. */
export function neighbourhoodLabel(map: LatentMap, z1: number, z2: number, k = 15): Neighbourhood | null {
  const n = map.label.length;
  if (n === 0) return null;
  const kk = Math.min(k, n);
  const best: { d: number; l: number }[] = [];
  for (let i = 0; i < n; i++) {
    const dx = map.z[2 * i]! - z1;
    const dy = map.z[2 * i + 1]! - z2;
    const d = dx * dx + dy * dy;
    if (best.length < kk || d < best[best.length - 1]!.d) {
      let j = best.length < kk ? best.length : kk - 1;
      if (best.length < kk) best.push({ d, l: map.label[i]! });
      while (j > 0 && best[j - 1]!.d > d) {
        best[j] = best[j - 1]!;
        j--;
      }
      best[j] = { d, l: map.label[i]! };
    }
  }
  const votes = new Map<number, number>();
  for (const b of best) votes.set(b.l, (votes.get(b.l) ?? 0) + 1);
  let label = -1;
  let count = 0;
  for (const [l, c] of votes) if (c > count || (c === count && l < label)) [label, count] = [l, c];
  return { label, share: count / kk, k: kk, nearest: Math.sqrt(best[0]!.d) };
}
