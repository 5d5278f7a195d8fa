/**
 * The learned prior's build step (used by npm run prior and by npm run train
 * for face sets): fit each candidate density to the encoder means of the
 * training faces; with a judge set, measure every sampler with the
 * independent judge, ship the candidate with the lowest FID at the studio's
 * default temperature, and write the table and labelled sheets.
 */
import type * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleManifest } from '../lib/bundle.ts';
import { describePrior, encodePrior, type LatentPrior } from '../lib/prior.ts';
import { readPrior } from './bundle-read.ts';
import { measureSettle, type SettleResult } from './prior-settle.ts';
import { settleWith } from './settle-node.ts';
import type { ImageDataset } from './data/types.ts';
import { cachedJudge } from './judge.ts';
import { labelledSheet } from './labelled-sheet.ts';
import { updateManifest } from './manifest-writer.ts';
import { fitDiffusionPrior } from './prior-diffusion-fit.ts';
import { fitGaussianMixture } from './prior-fit.ts';
import { decodedReader, judgeReference, measureRow, medianNearestDistance, sampleNormal, samplePriorSeeded, splitReader, type SamplerRow } from './prior-measure.ts';
import { decodeToBytes, encodeMeans, tile } from './report.ts';

export interface PriorBuildOptions {
  dir: string;
  manifest: BundleManifest;
  /** The model's own faces (the same crop and size it was trained on). */
  data: ImageDataset;
  dataDir: string;
  encoder: tf.LayersModel;
  decoder: tf.LayersModel;
  /** A separate face set for the judge; without it the first candidate is fitted and shipped unmeasured. */
  judgeDir?: string;
  loadJudgeData?: () => Promise<ImageDataset>;
  /** gmm-K or diffusion, in order. */
  tries: string[];
  diffusionSteps: number;
  temperature: number;
  count: number;
  iterations: number;
  seed: number;
  cacheDir: string;
  /** The command that ran this, for the manifest. */
  command: string;
  /** Encode–decode round-trip counts to measure for settling (training/prior-settle.ts); empty: none. */
  settleTrips: number[];
  /** Over-relaxation of each settling round trip (lib/settle.ts). */
  relax: number;
  /** Measure the bundle's prior as it is (no refit): only its settling and the manifest's table change. */
  measureOnly: boolean;
}

/** A bundle's face set as the model saw it: same size, same crop. */
export async function loadFaces(dir: string, manifest: BundleManifest, cacheDir: string): Promise<ImageDataset> {
  const { loadCelebA } = await import('./data/celeba.ts');
  return loadCelebA(dir, { size: [manifest.image.height, manifest.image.width], cacheDir, crop: manifest.dataset.crop ?? 0 });
}

export const PRIOR_DEFAULTS = { tries: ['gmm-40'], diffusionSteps: 12000, temperature: 0.8, count: 1200, iterations: 100, seed: 1, settleTrips: [2, 4, 6, 8, 10, 12], relax: 2 };

/** Fits (and with a judge set, measures and chooses) the prior; writes prior.json, prior.bin, sheets and the manifest. */
export async function buildPrior(o: PriorBuildOptions): Promise<BundleManifest> {
  const { manifest, data } = o;
  const d = manifest.latentDim;
  const trainCodes = trainingCodes(o.encoder, data, manifest, o.cacheDir);
  const fits: Candidate[] = o.measureOnly ? [{ name: 'shipped', prior: readPrior(o.dir, manifest), seconds: 0, info: {} }] : o.tries.map((name) => {
    const t = Date.now();
    if (name === 'diffusion') {
      const { prior, loss } = fitDiffusionPrior(trainCodes, d, { steps: o.diffusionSteps, seed: o.seed, log: true });
      return { name, prior, seconds: (Date.now() - t) / 1000, info: { trainingSteps: o.diffusionSteps, finalLoss: Math.round(loss * 1e4) / 1e4 } };
    }
    // A small face set cannot pin down many full covariances: at least 2d codes per component.
    const components = Math.max(1, Math.min(Number(name.slice(4)), Math.floor(trainCodes.length / d / (2 * d))));
    const fit = fitGaussianMixture(trainCodes, d, { components, iterations: o.iterations, seed: o.seed, log: true });
    return { name, prior: fit.prior, seconds: (Date.now() - t) / 1000, info: { iterations: fit.iterations, logLikelihood: Math.round(fit.logLikelihood.at(-1)! * 1000) / 1000 } };
  });
  let chosen = fits[0]!;
  let metrics: Record<string, unknown> | null = null;
  let figures: Record<string, string> = {};
  if (o.judgeDir && o.loadJudgeData) {
    const result = await measure({ ...o, judgeDir: o.judgeDir, loadJudgeData: o.loadJudgeData, trainCodes, fits });
    ({ chosen, metrics, figures } = result);
  }
  if (o.measureOnly) writeSettleOnly(o.dir, manifest, chosen.prior);
  else writePrior(o, chosen);
  return updateManifest(o.dir, (m) => {
    // A refit without a judge keeps no stale measurements of another prior.
    const { prior: _stale, ...otherMetrics } = m.metrics;
    return {
      ...m,
      prior: 'prior.json',
      figures: { ...m.figures, ...figures },
      training: { ...m.training, priorCommand: o.command },
      metrics: { ...otherMetrics, test: m.metrics.test, ...(metrics ? { prior: metrics } : {}) },
    };
  });
}

function writePrior(o: PriorBuildOptions, chosen: Candidate): void {
  const { json, bin } = encodePrior(chosen.prior, {
    fitted: { on: `encoder means of the ${o.data.train.count} training faces of ${o.dataDir}`, what: describePrior(chosen.prior), ...chosen.info, seconds: Math.round(chosen.seconds), command: o.command },
  });
  writeFileSync(join(o.dir, 'prior.bin'), bin);
  writeFileSync(join(o.dir, 'prior.json'), JSON.stringify(json, null, 1) + '\n');
  console.log(`Prior written to ${join(o.dir, 'prior.json')} (${describePrior(chosen.prior)}, ${(bin.length / 1024).toFixed(0)} KiB).`);
}

/** A measured-only prior keeps its file and its fit; only its settling (count and step) is written into prior.json. */
function writeSettleOnly(dir: string, manifest: BundleManifest, prior: LatentPrior): void {
  const path = join(dir, manifest.prior!);
  const { settle: _old, settleStep: _oldStep, ...json } = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const { json: encoded } = encodePrior(prior);
  const settling = Object.entries(encoded).filter(([k]) => k === 'settle' || k === 'settleStep');
  const ordered = Object.fromEntries(Object.entries(json).flatMap(([k, v]) => (k === 'data' ? [...settling, [k, v]] : [[k, v]])));
  writeFileSync(path, JSON.stringify(ordered, null, 1) + '\n');
  console.log(`Settling written to ${path}: ${prior.settle ? `${prior.settle} round trips` : 'none'}.`);
}

interface Candidate {
  name: string;
  prior: LatentPrior;
  seconds: number;
  info: Record<string, unknown>;
}

/** Encoder means of the training faces, kept under the cache folder per model version (encoding takes minutes). */
export function trainingCodes(encoder: tf.LayersModel, data: ImageDataset, manifest: BundleManifest, cacheDir: string): Float32Array {
  const path = join(cacheDir, `codes-${manifest.id}-${manifest.version}-${data.train.count}.f32`);
  if (existsSync(path)) {
    const bytes = readFileSync(path);
    console.log(`Using the training codes kept in ${path}.`);
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  console.log(`Encoding ${data.train.count} training faces…`);
  const codes = encodeMeans(encoder, data.train, Int32Array.from({ length: data.train.count }, (_, i) => i));
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(path, new Uint8Array(codes.buffer));
  return codes;
}

interface MeasureInput extends PriorBuildOptions {
  judgeDir: string;
  loadJudgeData: () => Promise<ImageDataset>;
  trainCodes: Float32Array;
  fits: Candidate[];
}

async function measure(m: MeasureInput): Promise<{ chosen: MeasureInput['fits'][number]; metrics: Record<string, unknown>; figures: Record<string, string> }> {
  const { manifest, data, decoder, count, temperature, seed } = m;
  const d = manifest.latentDim;
  if (data.test.count < 2 * count) throw new Error(`measuring needs ${2 * count} held-out faces (two sets of --count ${count}); ${m.manifest.dataset.source} has ${data.test.count}`);
  const judge = await cachedJudge(join(m.judgeDir, `.judge-${manifest.image.height}x${manifest.image.width}-crop${manifest.dataset.crop ?? 0}`), m.loadJudgeData);
  const accuracies = Object.values(judge.accuracy);
  console.log(`Judge: ${judge.attributes.length} attributes, mean accuracy ${(100 * accuracies.reduce((a, b) => a + b, 0) / accuracies.length).toFixed(1)}% on its own test faces.`);
  // Reference: the second half of the held-out faces. Reconstructions are of the first half (other faces).
  const reference = judgeReference(judge, splitReader(data.test, count), count);
  const testCodes = encodeMeans(m.encoder, data.test, Int32Array.from({ length: count }, (_, i) => i));
  const rows: SamplerRow[] = [];
  const row = (r: SamplerRow) => {
    rows.push(r);
    console.log(`  ${r.label.padEnd(48)} FID ${r.fid.toFixed(2).padStart(7)}   confident ${(100 * r.confident).toFixed(1)}%`);
    return r;
  };
  row(measureRow(judge, reference, splitReader(data.train, 0), count, { label: 'real faces (training set)', kind: 'real' }));
  const recon = row(measureRow(judge, reference, decodedReader(decoder, testCodes, d), count, { label: 'reconstructions of other held-out faces', kind: 'reconstruction' }));
  for (const T of [0.7, 1]) row(measureRow(judge, reference, decodedReader(decoder, sampleNormal(count, d, T, seed), d), count, { label: `N(0, I) at T = ${T}`, kind: 'normal', temperature: T }));
  const tried: Record<string, unknown>[] = [];
  let best: { fit: Candidate; fid: number } | null = null;
  const priorRows = new Map<string, SamplerRow[]>();
  for (const f of m.fits) {
    const temps = [...new Set([0.6, 0.8, temperature, 1])].sort();
    const t0 = Date.now();
    samplePriorSeeded(f.prior, 100, 1, seed);
    const msPerSample = (Date.now() - t0) / 100;
    for (const T of temps) {
      const r = row(measureRow(judge, reference, decodedReader(decoder, samplePriorSeeded(f.prior, count, T, seed), d), count, { label: `learned prior (${describePrior(f.prior)}) at T = ${T}`, kind: 'prior', temperature: T }));
      priorRows.set(f.name, [...(priorRows.get(f.name) ?? []), r]);
      tried.push({ prior: f.name, what: describePrior(f.prior), temperature: T, fid: r.fid, confident: r.confident, msPerSampleInNode: Math.round(msPerSample * 1000) / 1000, fitSeconds: Math.round(f.seconds) });
      if (T === temperature && (!best || r.fid < best.fid)) best = { fit: f, fid: r.fid };
    }
  }
  const chosen = best!.fit;
  const shipped = () => rows.filter((r) => r.kind !== 'prior' || priorRows.get(chosen.name)!.includes(r));
  const samples = samplePriorSeeded(chosen.prior, count, 1, seed);
  const nearest = {
    samples: round3(medianNearestDistance(samples, m.trainCodes, d)),
    heldOut: round3(medianNearestDistance(testCodes, m.trainCodes, d)),
  };
  console.log(`Median distance to the nearest training code: samples (T = 1) ${nearest.samples}, held-out faces ${nearest.heldOut}.`);
  const settled = m.settleTrips.length ? await measureSettle({
    encoder: m.encoder, decoder, judge, reference, prior: chosen.prior, temperature, count, seed, d, trips: m.settleTrips, reconstructionFid: recon.fid, relax: m.relax, trainCodes: m.trainCodes,
  }, (r) => row(r)) : null;
  chosen.prior = { ...chosen.prior, settle: settled?.chosen || undefined, settleStep: settled?.chosen ? settled.step : undefined };
  if (settled) console.log(`Settling: ${settled.chosen ? `${settled.chosen} round trips per sample` : 'none'} (${settled.rule}); ${settled.msPerTripInNode} ms per round trip per face in Node (batched).`);
  const figures = await writeSheets(m, chosen.prior, testCodes);
  return {
    chosen,
    figures,
    metrics: {
      sampler: `${describePrior(chosen.prior)}, fitted to the encoder means of the training faces`,
      defaultTemperature: temperature,
      judge: { data: m.judgeDir, attributes: judge.attributes.length, meanAccuracy: round3(accuracies.reduce((a, b) => a + b, 0) / accuracies.length), confidence: 0.9 },
      reference: `${count} held-out faces (test split ${count + 1}–${2 * count})`,
      rows: shipped(),
      tried,
      fidVsReconstruction: Math.round((best!.fid / recon.fid) * 100) / 100,
      nearestTrainingCode: nearest,
      ...(settled ? { settle: settleMetrics(settled, recon) } : {}),
    },
  };
}

function settleMetrics(r: SettleResult, recon: SamplerRow): Record<string, unknown> {
  const chosen = r.rows.find((x) => x.trips === r.chosen);
  return {
    trips: r.chosen,
    rule: r.rule,
    relax: r.step.relax,
    correction: r.correction,
    msPerTripInNode: r.msPerTripInNode,
    nearestTrainingCode: r.nearestTrainingCode,
    ...(chosen ? { fid: chosen.fid, confident: chosen.confident, fidVsReconstruction: Math.round((chosen.fid / recon.fid) * 100) / 100 } : {}),
  };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** Sample sheets before and after the prior, and the three-way comparison; returns them as manifest figures. */
async function writeSheets(m: MeasureInput, prior: LatentPrior, testCodes: Float32Array): Promise<Record<string, string>> {
  const d = m.manifest.latentDim;
  const n = 36;
  const decode = (z: Float32Array) => decodeToBytes(m.decoder, z, d);
  const normal = decode(sampleNormal(n, d, 0.7, 7));
  const raw = samplePriorSeeded(prior, 64, m.temperature, 7);
  const learned = decode(raw.slice(0, n * d));
  const trips = prior.settle ?? 0;
  const settled = trips ? decode(await settleWith(m.encoder, m.decoder, raw, trips, d, prior.settleStep)) : null;
  const recon = decode(testCodes.slice(0, n * d));
  const { h, w, c } = normal;
  writeFileSync(join(m.dir, 'samples-normal.png'), tile(decode(sampleNormal(64, d, 0.7, 7)).bytes, 64, h, w, c, 8).png);
  writeFileSync(join(m.dir, 'samples.png'), tile(decode(raw).bytes, 64, h, w, c, 8).png);
  if (settled) writeFileSync(join(m.dir, 'samples-settled.png'), tile(settled.bytes, 64, h, w, c, 8).png);
  const px = h * w * c;
  const sheet = await labelledSheet([
    { caption: 'Before: N(0, I) at T = 0.7', images: normal.bytes, count: n },
    { caption: `Learned prior at T = ${m.temperature}, as drawn`, images: learned.bytes, count: n },
    ...(settled ? [{ caption: `The same draws, settled by ${trips} corrected encode-decode round trips`, images: settled.bytes.slice(0, n * px), count: n }] : []),
    { caption: 'Reconstructions of held-out faces', images: recon.bytes, count: n },
  ], h, w, c, 6);
  writeFileSync(join(m.dir, 'sampler-comparison.png'), sheet);
  return { samples: 'samples.png', samplesNormal: 'samples-normal.png', samplerComparison: 'sampler-comparison.png', ...(settled ? { samplesSettled: 'samples-settled.png' } : {}) };
}

