/**
 * Where the faces studio's new faces come from, and the words that describe
 * it: the bundle's learned prior when it has one (sampled where the decoder
 * runs), else N(0, T² I). The words quote what the build measured
 * (manifest metrics.prior), so the page says what the model really draws.
 */
import type { BundleManifest } from '../../../lib/bundle.ts';
import { quantizeLatent } from '../../../lib/latent-url.ts';
import { describePrior, type LatentPrior } from '../../../lib/prior.ts';
import { DEFAULT_TEMPERATURE, sampleLatent } from './state.ts';
import type { LatentSampler } from '../engine/remote-decoder.ts';

/** The measured rows the build writes (training/prior-cli.ts). */
interface PriorMetricRow {
  kind: string;
  temperature?: number;
  fid: number;
  confident: number;
}

interface PriorMetrics {
  sampler?: string;
  defaultTemperature?: number;
  rows?: PriorMetricRow[];
}

function priorMetrics(m: BundleManifest): PriorMetrics | null {
  const p = m.metrics.prior;
  return typeof p === 'object' && p !== null ? (p as PriorMetrics) : null;
}

/** The studio's starting temperature: the one the build measured as the default, else FIDLE's 0.7. */
export function defaultTemperature(m: BundleManifest): number {
  const t = priorMetrics(m)?.defaultTemperature;
  return m.prior && typeof t === 'number' && Number.isFinite(t) && t >= 0 && t <= 1.5 ? t : DEFAULT_TEMPERATURE;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function row(m: BundleManifest, kind: string, t?: number): PriorMetricRow | undefined {
  return priorMetrics(m)?.rows?.find((r) => r.kind === kind && (t === undefined || r.temperature === t));
}

/** The temperature hint under the slider, in measured words: what the judge read at the default, beside reconstructions and a lower temperature. */
export function temperatureHint(m: BundleManifest, usingPrior: boolean): string {
  if (!usingPrior) return 'How far from the average face to sample, N(0, T²I): lower is more typical and less varied; 1 is the full prior the model was trained towards.';
  const t = defaultTemperature(m);
  const base = "How far from the most typical faces to sample: 0 gives the centre of one of the learned prior's clusters of faces, 1 samples the prior as fitted to the training faces.";
  const at = row(m, 'prior', t);
  if (!at) return `${base} Lower is less varied.`;
  const recon = row(m, 'reconstruction');
  const lower = priorMetrics(m)?.rows?.filter((r) => r.kind === 'prior' && r.temperature !== undefined && r.temperature < t).sort((x, y) => x.temperature! - y.temperature!)[0];
  const versus = recon ? ` (${percent(recon.confident)} on the model's reconstructions of real faces)` : '';
  const lowerText = !lower
    ? ' Lower is less varied.'
    : lower.confident - at.confident > 0.05
      ? ` Lower is clearer and less varied: ${percent(lower.confident)} at ${lower.temperature}.`
      : ` Lower is less varied but not clearer: ${percent(lower.confident)} at ${lower.temperature}.`;
  return `${base} Measured at ${t}: an independent judge reads every attribute clearly on ${percent(at.confident)} of the faces drawn${versus}.${lowerText}`;
}

/** The "Latent space" line of the model facts. */
export function samplerFact(m: BundleManifest, prior: LatentPrior | null, problem: string | null): string {
  if (prior) {
    const settle = prior.settle ? `, then settled by ${prior.settle} encode–decode round trip${prior.settle === 1 ? '' : 's'}` : '';
    return `${m.latentDim} dimensions; new faces drawn from a learned prior, ${describePrior(prior)} fitted to where the encoder puts the training faces${settle}`;
  }
  if (problem) return `${m.latentDim} dimensions; the learned prior did not load (${problem}), so new faces come from N(0, I)`;
  return `${m.latentDim} dimensions, prior N(0, I)`;
}

/** A seed for one sampling request, from the studio's random source. */
export function nextSeed(random: () => number): number {
  return Math.floor(random() * 2 ** 32) >>> 0;
}

/** One new base point, float16-rounded like every shown point. */
export async function drawBase(latentDim: number, temperature: number, random: () => number, sampler: Pick<LatentSampler, 'sample'> | null): Promise<Float32Array> {
  if (!sampler) return sampleLatent(latentDim, temperature, random);
  return quantizeLatent(await sampler.sample(1, temperature, nextSeed(random)));
}
