/**
 * Where the studio's new faces come from: the bundle's learned prior
 * (lib/prior.ts, the same sampler `npm run sample` runs in Node) when it has
 * one, else N(0, T² I). Seeded per request, so a worker and the page draw the
 * same point for the same seed.
 */
import { samplePrior, type LatentPrior } from '../../../lib/prior.ts';
import { mulberry32 } from '../../../lib/random.ts';

export class PriorSampler {
  prior: LatentPrior | null = null;

  /** `count` points, flat [count × latentDim]. */
  sample(count: number, temperature: number, seed: number): Float32Array {
    if (!this.prior) throw new Error('no learned prior has been loaded');
    return samplePrior(this.prior, count, temperature, mulberry32(seed));
  }
}
