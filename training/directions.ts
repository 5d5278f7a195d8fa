/**
 * Attribute directions in a latent space, three ways, from encoder means and
 * binary labels:
 *
 *   - the plain mean difference, mean(z | a) - mean(z | not a): what the
 *     studio shipped first. Attributes that travel together in the data (a
 *     beard with a moustache's absence, glasses with a squint) leak into it;
 *   - the balanced mean difference: faces are grouped by the combination of
 *     the attributes most correlated with `a`, the difference is taken inside
 *     each group that has both kinds, and the groups are averaged with equal
 *     say for equal evidence, so a correlated attribute contributes nothing;
 *   - a linear probe: the normal of an L2-regularised logistic regression of
 *     `a` on the codes (fitted by Newton's method), the direction that crosses
 *     the model's own boundary for `a` soonest.
 *
 * Every direction may be fitted on a subset ("where the attribute can show":
 * a hair colour among faces that have hair). The conditional form that keeps
 * other attributes is in lib/attributes.ts: the site and the API apply it.
 */

/** Encoder means with their labels: z is [n × d], labels [n × names.length] of +1 / -1. */
export interface LabelledCodes {
  z: Float32Array;
  d: number;
  n: number;
  labels: Int8Array;
  names: readonly string[];
}

export type DirectionMethod = 'mean-difference' | 'balanced-difference' | 'regression' | 'probe';
export const DIRECTION_METHODS: readonly DirectionMethod[] = ['mean-difference', 'balanced-difference', 'regression', 'probe'];

function has(c: LabelledCodes, i: number, col: number): boolean {
  return c.labels[i * c.names.length + col]! > 0;
}

function column(c: LabelledCodes, name: string): number {
  const j = c.names.indexOf(name);
  if (j < 0) throw new Error(`no labels for attribute ${name}`);
  return j;
}

/** mean(z | a) - mean(z | not a) over the faces in `mask` (all when omitted). */
export function meanDifference(c: LabelledCodes, name: string, mask?: Uint8Array): Float64Array {
  const j = column(c, name);
  const all = Array.from({ length: c.n }, (_, i) => i).filter((i) => !mask || mask[i]);
  return groupDifference(c, j, all)?.diff ?? new Float64Array(c.d);
}

function groupDifference(c: LabelledCodes, j: number, members: readonly number[], minPerSide = 1): { diff: Float64Array; pos: number; neg: number } | null {
  const { d } = c;
  const pos = new Float64Array(d);
  const neg = new Float64Array(d);
  let np = 0;
  let nn = 0;
  for (const i of members) {
    const target = has(c, i, j) ? pos : neg;
    if (has(c, i, j)) np++;
    else nn++;
    for (let q = 0; q < d; q++) target[q]! += c.z[i * d + q]!;
  }
  if (np < minPerSide || nn < minPerSide) return null;
  const diff = new Float64Array(d);
  for (let q = 0; q < d; q++) diff[q] = pos[q]! / np - neg[q]! / nn;
  return { diff, pos: np, neg: nn };
}

/** Phi (Pearson on ±1 labels) between two label columns over the faces in `mask`. */
export function labelCorrelation(c: LabelledCodes, a: number, b: number, mask?: Uint8Array): number {
  let n = 0, sa = 0, sb = 0, sab = 0;
  for (let i = 0; i < c.n; i++) {
    if (mask && !mask[i]) continue;
    const x = has(c, i, a) ? 1 : 0;
    const y = has(c, i, b) ? 1 : 0;
    n++; sa += x; sb += y; sab += x * y;
  }
  const cov = sab / n - (sa / n) * (sb / n);
  const va = (sa / n) * (1 - sa / n);
  const vb = (sb / n) * (1 - sb / n);
  return va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0;
}

/**
 * The `k` attributes among `candidates` most correlated with `name` (|phi| ≥
 * `min`) over the faces in `mask`: the ones to balance on.
 */
export function confounders(c: LabelledCodes, name: string, candidates: readonly string[], mask?: Uint8Array, k = 3, min = 0.03): string[] {
  const j = column(c, name);
  return candidates
    .filter((o) => o !== name && c.names.includes(o))
    .map((o) => ({ o, r: Math.abs(labelCorrelation(c, j, column(c, o), mask)) }))
    .filter((x) => x.r >= min)
    .sort((x, y) => y.r - x.r)
    .slice(0, k)
    .map((x) => x.o);
}

/**
 * The balanced mean difference: faces grouped by the combination of the
 * `balance` attributes; inside each group with at least `minPerSide` faces
 * with and without `name`, the difference of means; the groups averaged with
 * weights min(with, without), so no group's mix of the confounders tilts it.
 */
export function balancedDifference(c: LabelledCodes, name: string, balance: readonly string[], mask?: Uint8Array, minPerSide = 5): Float64Array {
  const j = column(c, name);
  const cols = balance.map((b) => column(c, b));
  const groups = new Map<number, number[]>();
  for (let i = 0; i < c.n; i++) {
    if (mask && !mask[i]) continue;
    let key = 0;
    cols.forEach((col, k) => { if (has(c, i, col)) key |= 1 << k; });
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  }
  const out = new Float64Array(c.d);
  let total = 0;
  for (const members of groups.values()) {
    const g = groupDifference(c, j, members, minPerSide);
    if (!g) continue;
    const w = Math.min(g.pos, g.neg);
    total += w;
    for (let q = 0; q < c.d; q++) out[q]! += w * g.diff[q]!;
  }
  if (total === 0) return meanDifference(c, name, mask);
  for (let q = 0; q < c.d; q++) out[q]! /= total;
  return out;
}

/** Solves A x = b for a symmetric positive-definite A (n × n, row-major) by Cholesky. */
export function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) throw new Error('matrix is not positive definite');
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / l[j * n + j]!;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * y[k]!;
    y[i] = s / l[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k]!;
    x[i] = s / l[i * n + i]!;
  }
  return x;
}

export interface Probe {
  /** Weights on the code (length d) and the bias: P(a | z) = sigmoid(w·z + b). */
  w: Float64Array;
  b: number;
  /** Share of the fitted faces the probe labels right. */
  accuracy: number;
}

/**
 * Logistic regression of `name` on the codes of the faces in `mask`, with an
 * L2 penalty `l2` on w (not b), by Newton's method (the Hessian is d+1 square).
 */
export function logisticProbe(c: LabelledCodes, name: string, mask?: Uint8Array, l2 = 1, iterations = 30): Probe {
  const j = column(c, name);
  const { d } = c;
  const m = d + 1;
  const theta = new Float64Array(m);
  const rows = Array.from({ length: c.n }, (_, i) => i).filter((i) => !mask || mask[i]);
  const row = new Float64Array(m);
  for (let it = 0; it < iterations; it++) {
    const grad = new Float64Array(m);
    const hess = new Float64Array(m * m);
    for (const i of rows) {
      for (let q = 0; q < d; q++) row[q] = c.z[i * d + q]!;
      row[d] = 1;
      let t = 0;
      for (let q = 0; q < m; q++) t += theta[q]! * row[q]!;
      const p = 1 / (1 + Math.exp(-t));
      const y = has(c, i, j) ? 1 : 0;
      const wgt = Math.max(p * (1 - p), 1e-9);
      for (let q = 0; q < m; q++) {
        grad[q]! += (p - y) * row[q]!;
        const rq = wgt * row[q]!;
        for (let r = 0; r <= q; r++) hess[q * m + r]! += rq * row[r]!;
      }
    }
    for (let q = 0; q < m; q++) for (let r = 0; r < q; r++) hess[r * m + q] = hess[q * m + r]!;
    for (let q = 0; q < d; q++) {
      grad[q]! += l2 * theta[q]!;
      hess[q * m + q]! += l2;
    }
    hess[d * m + d]! += 1e-6;
    const step = solveSpd(hess, grad, m);
    let change = 0;
    for (let q = 0; q < m; q++) {
      theta[q]! -= step[q]!;
      change = Math.max(change, Math.abs(step[q]!));
    }
    if (change < 1e-6) break;
  }
  let right = 0;
  for (const i of rows) {
    let t = theta[d]!;
    for (let q = 0; q < d; q++) t += theta[q]! * c.z[i * d + q]!;
    right += (t > 0) === has(c, i, j) ? 1 : 0;
  }
  return { w: theta.slice(0, d), b: theta[d]!, accuracy: rows.length ? right / rows.length : 0 };
}

export function unit(v: ArrayLike<number>): Float64Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const n = Math.sqrt(s);
  return Float64Array.from(v, (x) => (n > 0 ? x / n : 0));
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ua = unit(a);
  const ub = unit(b);
  let s = 0;
  for (let i = 0; i < ua.length; i++) s += ua[i]! * ub[i]!;
  return s;
}

/** Whether no face in `c` has both attributes. */
export function exclusive(c: LabelledCodes, a: string, b: string): boolean {
  const ja = column(c, a);
  const jb = column(c, b);
  for (let i = 0; i < c.n; i++) if (has(c, i, ja) && has(c, i, jb)) return false;
  return true;
}

/**
 * The regression direction: least squares of the codes on the labels of
 * `name` and `adjust` together (z ≈ c + Σ β_k y_k, y in {0, 1}, a small ridge),
 * over the faces in `mask`; β of `name` is the change that comes with the
 * attribute when the adjusted attributes stay as they are. Labels constant
 * over the mask are dropped (they carry nothing there).
 */
export function regressionDirection(c: LabelledCodes, name: string, adjust: readonly string[], mask?: Uint8Array, ridge = 1e-3): Float64Array {
  const rows = Array.from({ length: c.n }, (_, i) => i).filter((i) => !mask || mask[i]);
  const cols = [name, ...adjust.filter((a) => a !== name)].map((a) => column(c, a)).filter((j, k) => {
    if (k === 0) return true;
    let pos = 0;
    for (const i of rows) pos += has(c, i, j) ? 1 : 0;
    return pos > 0 && pos < rows.length;
  });
  const m = cols.length + 1;
  const xtx = new Float64Array(m * m);
  const xtz = new Float64Array(m * c.d);
  const x = new Float64Array(m);
  for (const i of rows) {
    x[0] = 1;
    cols.forEach((j, k) => (x[k + 1] = has(c, i, j) ? 1 : 0));
    for (let p = 0; p < m; p++) {
      if (x[p] === 0) continue;
      for (let q = 0; q < m; q++) xtx[p * m + q]! += x[p]! * x[q]!;
      for (let q = 0; q < c.d; q++) xtz[p * c.d + q]! += x[p]! * c.z[i * c.d + q]!;
    }
  }
  for (let p = 0; p < m; p++) xtx[p * m + p]! += ridge * rows.length;
  const out = new Float64Array(c.d);
  for (let q = 0; q < c.d; q++) {
    const b = Float64Array.from({ length: m }, (_, p) => xtz[p * c.d + q]!);
    out[q] = solveSpd(xtx, b, m)[1]!;
  }
  return out;
}
