import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, type BundleManifest } from '../../lib/bundle.ts';
import { quantizeLatent } from '../../lib/latent-url.ts';
import { describePrior, samplePrior, type GaussianMixturePrior } from '../../lib/prior.ts';
import { mulberry32 } from '../../lib/random.ts';
import { loadPrior, type ManifestStage } from '../../site/scripts/engine/bundle-loader.ts';
import { defaultTemperature, drawBase, nextSeed, samplerFact, temperatureHint } from '../../site/scripts/faces/sampling.ts';
import { DEFAULT_TEMPERATURE } from '../../site/scripts/faces/state.ts';
import { PriorSampler } from '../../site/scripts/engine/prior-sampler.ts';
import type { LatentSampler } from '../../site/scripts/engine/remote-decoder.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const FACES = join(ROOT, 'public/models/faces');
const committed = parseManifest(JSON.parse(readFileSync(join(FACES, 'manifest.json'), 'utf8')));

function withMetrics(prior: unknown, hasPrior = true): BundleManifest {
  return { ...committed, prior: hasPrior ? 'prior.json' : null, metrics: { ...committed.metrics, prior } };
}

/** A fetch over the committed bundle's files, as the site serves them. */
const fileFetch: typeof fetch = async (input) => {
  const url = new URL(String(input));
  try {
    return new Response(readFileSync(join(ROOT, 'public', url.pathname)));
  } catch {
    return new Response('not found', { status: 404 });
  }
};

const stage = (manifest: BundleManifest): ManifestStage => ({ manifestUrl: 'http://site.test/models/faces/manifest.json', manifest, fetcher: fileFetch });

describe('the studio\'s sampler (site/scripts/faces/sampling.ts)', () => {
  it('starts at the temperature the build measured, else FIDLE\'s 0.7', () => {
    expect(defaultTemperature(withMetrics({ defaultTemperature: 0.9 }))).toBe(0.9);
    expect(defaultTemperature(withMetrics({ defaultTemperature: 0.9 }, false))).toBe(DEFAULT_TEMPERATURE);
    expect(defaultTemperature(withMetrics({ defaultTemperature: 'hot' }))).toBe(DEFAULT_TEMPERATURE);
    expect(defaultTemperature(withMetrics(undefined))).toBe(DEFAULT_TEMPERATURE);
  });

  it('words the temperature with the measured shares, and without a prior says N(0, T²I)', () => {
    const rows = (lowShare: number) => [
      { kind: 'reconstruction', fid: 15, confident: 0.804 },
      { kind: 'prior', temperature: 0.6, fid: 112, confident: lowShare },
      { kind: 'prior', temperature: 1, fid: 28, confident: 0.358 },
    ];
    const flat = temperatureHint(withMetrics({ defaultTemperature: 1, rows: rows(0.344) }), true);
    expect(flat).toMatch(/0 gives the centre/);
    expect(flat).toContain('Measured at 1: an independent judge reads every attribute clearly on 36% of the faces drawn (80% on the model\'s reconstructions of real faces). Lower is less varied but not clearer: 34% at 0.6.');
    expect(temperatureHint(withMetrics({ defaultTemperature: 1, rows: rows(0.7) }), true)).toContain('Lower is clearer and less varied: 70% at 0.6.');
    expect(temperatureHint(withMetrics({ defaultTemperature: 0.8 }), true)).not.toMatch(/Measured/);
    expect(temperatureHint(withMetrics({ defaultTemperature: 1, rows: rows(0.344) }), false)).toMatch(/N\(0, T²I\)/);
  });

  it('names the sampler in the model facts, and says when the prior did not load', () => {
    const prior: GaussianMixturePrior = { kind: 'gmm', latentDim: 2, weights: Float64Array.from([1]), means: new Float32Array(2), chol: Float32Array.from([1, 0, 1]) };
    expect(samplerFact(committed, prior, null)).toBe(`${committed.latentDim} dimensions; new faces drawn from a learned prior, a mixture of 1 Gaussians fitted to where the encoder puts the training faces`);
    expect(samplerFact(committed, null, 'HTTP 404')).toMatch(/did not load \(HTTP 404\), so new faces come from N\(0, I\)/);
    expect(samplerFact(committed, null, null)).toMatch(/prior N\(0, I\)/);
  });

  it('loads the committed prior as the site does, and draws from it what Node draws with the same seed', async () => {
    const prior = await loadPrior(stage(committed), fileFetch);
    expect(prior).not.toBeNull();
    expect(describePrior(prior!)).toMatch(/mixture|diffusion/);
    const sampler = new PriorSampler();
    sampler.prior = prior;
    const remote: Pick<LatentSampler, 'sample'> = { sample: async (n, t, seed) => sampler.sample(n, t, seed) };
    const random = mulberry32(77);
    const seed = nextSeed(mulberry32(77));
    const base = await drawBase(committed.latentDim, 0.8, random, remote);
    expect(Array.from(base)).toEqual(Array.from(quantizeLatent(samplePrior(prior!, 1, 0.8, mulberry32(seed)))));
    expect(() => new PriorSampler().sample(1, 1, 1)).toThrow(/no learned prior has been loaded/);
  });

  it('a bundle without a prior loads none; a missing or damaged prior file is an error naming it', async () => {
    expect(await loadPrior(stage({ ...committed, prior: null }), fileFetch)).toBeNull();
    await expect(loadPrior(stage({ ...committed, prior: 'nope.json' }), fileFetch)).rejects.toThrow(/the learned prior answered HTTP 404/);
    const truncated: typeof fetch = async (input) => {
      const res = await fileFetch(input);
      return String(input).endsWith('.bin') ? new Response((await res.arrayBuffer()).slice(0, 100)) : res;
    };
    await expect(loadPrior({ ...stage(committed), manifest: committed }, truncated)).rejects.toThrow(/has 100 bytes, expected .* truncated/);
  });

  it('without a sampler, draws from N(0, T²I), float16-rounded', async () => {
    expect(Array.from(await drawBase(8, 0, mulberry32(1), null), Math.abs)).toEqual(new Array(8).fill(0));
    const z = await drawBase(8, 1, mulberry32(1), null);
    expect(Array.from(z)).toEqual(Array.from(quantizeLatent(z)));
    expect(z.some((v) => Math.abs(v) > 0.05)).toBe(true);
  });
});
