/**
 * The anomaly score of the digits model, shared by the build (which calibrates
 * the threshold) and the browser (which scores a visitor's drawing), so both
 * compute the very same number.
 *
 * Score = the negative ELBO with the reconstruction evaluated at the posterior
 * mean: BCE(x, decoder(mu)) + KL(N(mu, sigma^2) || N(0, I)), in nats per image.
 * Using z = mu instead of a random sample makes the score deterministic (the
 * same drawing always gets the same verdict); an image the model explains
 * badly gets a high score, both because it is hard to rebuild and because its
 * code lies far from the prior.
 */

export interface AnomalyScore {
  /** reconstruction + kl. */
  score: number;
  /** Binary cross-entropy of the image under the decoder's pixel probabilities at z = mu, summed over pixels. */
  reconstruction: number;
  /** KL(q(z|x) || N(0, I)) in closed form. */
  kl: number;
}

/**
 * Summed binary cross-entropy of pixels `x` in [0, 1] given the decoder's
 * logits, in the stable form max(l, 0) - l x + log(1 + exp(-|l|)) that
 * training uses (lib/vae-model.ts bceFromLogits).
 */
export function bceFromLogits(x: ArrayLike<number>, logits: ArrayLike<number>, offset = 0, count = x.length): number {
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const l = logits[offset + i]!;
    sum += Math.max(l, 0) - l * x[offset + i]! + Math.log1p(Math.exp(-Math.abs(l)));
  }
  return sum;
}

/** KL(N(mean, exp(logVar)) || N(0, I)) = -1/2 sum(1 + logVar - mean^2 - exp(logVar)). */
export function gaussianKl(mean: ArrayLike<number>, logVar: ArrayLike<number>, offset = 0, dim = mean.length): number {
  let sum = 0;
  for (let j = 0; j < dim; j++) {
    const m = mean[offset + j]!;
    const lv = logVar[offset + j]!;
    sum += 1 + lv - m * m - Math.exp(lv);
  }
  return -0.5 * sum;
}

/**
 * Scores n images at once. `x` and `logits` hold n * pixels numbers,
 * `mean` and `logVar` n * latentDim.
 */
export function anomalyScores(x: ArrayLike<number>, logits: ArrayLike<number>, mean: ArrayLike<number>, logVar: ArrayLike<number>, n: number): AnomalyScore[] {
  if (n < 1 || x.length % n !== 0 || mean.length % n !== 0) throw new RangeError(`cannot split ${x.length} pixels and ${mean.length} latent numbers into ${n} images`);
  if (logits.length !== x.length || logVar.length !== mean.length) throw new RangeError('logits must match the pixels and logVar the means');
  const p = x.length / n;
  const d = mean.length / n;
  const out: AnomalyScore[] = [];
  for (let i = 0; i < n; i++) {
    const reconstruction = bceFromLogits(x, logits, i * p, p);
    const kl = gaussianKl(mean, logVar, i * d, d);
    out.push({ score: reconstruction + kl, reconstruction, kl });
  }
  return out;
}

/** The verdict the page shows: strictly above the threshold is unusual. */
export function isAnomalous(score: number, threshold: number): boolean {
  return score > threshold;
}

/**
 * Where a score falls among calibration scores given as a histogram: the share
 * of calibration images scoring at or below it, interpolated inside its bin.
 */
export function shareBelow(score: number, edges: readonly number[], counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0 || edges.length !== counts.length + 1) return NaN;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const lo = edges[i]!;
    const hi = edges[i + 1]!;
    if (score >= hi) below += counts[i]!;
    else if (score > lo) below += (counts[i]! * (score - lo)) / (hi - lo);
  }
  return below / total;
}
