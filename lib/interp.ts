/** Paths between latent points. */

export function lerp(a: ArrayLike<number>, b: ArrayLike<number>, t: number): Float32Array {
  checkSameLength(a, b);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + (b[i]! - a[i]!) * t;
  return out;
}

/**
 * Spherical interpolation. Under a Gaussian prior, samples concentrate on a
 * shell of radius about sqrt(d); a straight line between two of them cuts
 * through the low-density interior, while slerp keeps to the shell. Nearly
 * parallel endpoints fall back to lerp, where slerp is numerically unstable.
 */
export function slerp(a: ArrayLike<number>, b: ArrayLike<number>, t: number): Float32Array {
  checkSameLength(a, b);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  if (na === 0 || nb === 0) return lerp(a, b, t);
  const cos = Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)));
  const omega = Math.acos(cos);
  const sin = Math.sin(omega);
  if (sin < 1e-6) return lerp(a, b, t);
  const wa = Math.sin((1 - t) * omega) / sin;
  const wb = Math.sin(t * omega) / sin;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i]! + wb * b[i]!;
  return out;
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`cannot interpolate between points of ${a.length} and ${b.length} dimensions`);
}
