/** Turns a finished training run into a bundle: models, maps, history, figures and manifest. */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { BundleManifest, LatentMap, TrainingHistory } from '../lib/bundle.ts';
import type { ImageDataset } from './data/types.ts';
import { saveLayersModel, shortVersion, writeJson } from './export.ts';
import { createManifest } from './manifest-writer.ts';
import { encodeMeans, latentGridPng, latentScatterPng, sampleSheetPng } from './report.ts';
import type { RunState } from './train.ts';
import { describeModel, type VaeModels } from '../lib/vae-model.ts';
import type { LossTriple } from '../lib/bundle.ts';

/**
 * A data folder as a manifest or checkpoint names it: npm:PACKAGE/... for a
 * package, relative to the project when inside it, else absolute; so a clone
 * in another folder records (and resumes on) the same names.
 */
export function portablePath(source: string): string {
  const abs = resolve(source);
  const npm = abs.replace(/^.*node_modules\//, 'npm:');
  if (npm !== abs) return npm;
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

export interface BundleOptions {
  id: string;
  title: string;
  description: string;
  outDir: string;
  float16: boolean;
  backend: string;
  /** How many test points the latent map holds (2-D models only). */
  mapPoints: number;
  extraMetrics?: Record<string, unknown>;
  extraTraining?: Record<string, unknown>;
  /** Extra files the caller writes into the bundle before the manifest (e.g. attributes.json). */
  attributes?: string | null;
}

function countParams(m: tf.LayersModel): number {
  return m.countParams();
}

export async function writeBundle(models: VaeModels, data: ImageDataset, state: RunState, test: LossTriple, opts: BundleOptions): Promise<BundleManifest> {
  const dir = opts.outDir;
  const dec = await saveLayersModel(models.decoder, join(dir, 'decoder'), { float16: opts.float16 });
  await saveLayersModel(models.encoder, join(dir, 'encoder'), { float16: opts.float16 });
  const latentDim = state.settings.latentDim;
  const figures: Record<string, string> = {};

  let latentMap: string | null = null;
  if (latentDim === 2) {
    const n = Math.min(opts.mapPoints, data.test.count);
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    const z = encodeMeans(models.encoder, data.test, idx);
    const labels = data.test.labels ? Array.from(data.test.labels.subarray(0, n)) : new Array<number>(n).fill(0);
    const map: LatentMap = {
      classes: [...(data.classes ?? ['all'])],
      z: Array.from(z, (v) => Math.round(v * 1000) / 1000),
      label: labels,
      index: Array.from(idx),
    };
    writeJson(join(dir, 'latent-map.json'), map);
    latentMap = 'latent-map.json';
    writeFileSync(join(dir, 'latent-map.png'), latentScatterPng(z, labels));
    writeFileSync(join(dir, 'latent-grid.png'), latentGridPng(models.decoder, 16));
    figures.latentMap = 'latent-map.png';
    figures.latentGrid = 'latent-grid.png';
  }
  writeFileSync(join(dir, 'samples.png'), sampleSheetPng(models.decoder, latentDim, 64, latentDim === 2 ? 1 : 0.7));
  figures.samples = 'samples.png';

  const history: TrainingHistory = { epochs: state.history };
  writeJson(join(dir, 'history.json'), history);
  const last = state.history[state.history.length - 1];
  const s = state.settings;
  return createManifest(dir, {
    id: opts.id,
    title: opts.title,
    description: opts.description,
    version: shortVersion(dec.sha256),
    latentDim,
    image: data.image,
    decoder: 'decoder/model.json',
    encoder: 'encoder/model.json',
    latentMap,
    attributes: opts.attributes ?? null,
    history: 'history.json',
    figures,
    dataset: {
      name: data.name,
      train: s.trainLimit > 0 ? Math.min(s.trainLimit, data.train.count) : data.train.count,
      test: data.test.count,
      source: portablePath(data.source),
      ...(s.crop ? { crop: s.crop } : {}),
      ...(data.classes ? { labels: [...data.classes] } : {}),
    },
    architecture: {
      encoder: describeModel(models.encoder),
      decoder: describeModel(models.decoder),
      parameters: { encoder: countParams(models.encoder), decoder: countParams(models.decoder) },
    },
    training: {
      command: state.commands[0]!,
      resumedWith: state.commands.slice(1),
      epochs: state.epoch,
      ...(state.step > 0 ? { batchesIntoNextEpoch: state.step } : {}),
      batchSize: s.batchSize,
      beta: s.beta,
      learningRate: s.learningRate,
      ...(state.phases ? { phases: state.phases } : {}),
      optimizer: 'Adam',
      seed: s.seed,
      backend: opts.backend,
      seconds: Math.round(state.seconds),
      imagesPerSecond: last?.imagesPerSecond,
      reconstructionLoss: 'binary cross-entropy summed over pixels',
      weights: opts.float16 ? 'float16' : 'float32',
      ...opts.extraTraining,
    },
    metrics: { test, ...opts.extraMetrics },
  });
}
