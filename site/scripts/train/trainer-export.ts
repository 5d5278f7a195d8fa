/**
 * The model trained in the browser as a bundle in the project's own format
 * (docs/bundle-format.md): manifest.json, the decoder as a tfjs LayersModel
 * (decoder/model.json + one shard) and latent-map.json of the test digits.
 * The explorer loads it back from IndexedDB or from the downloaded .tar.
 */
import * as tf from '@tensorflow/tfjs-core';
import { version_layers } from '@tensorflow/tfjs-layers';
import { BUNDLE_FORMAT, type BundleManifest, type LatentMap } from '../../../lib/bundle.ts';
import { describeModel } from '../../../lib/vae-model.ts';
import type { TrainConfig } from './protocol.ts';
import type { BrowserTrainer } from './trainer.ts';

export interface BundleFile {
  path: string;
  bytes: ArrayBuffer;
}

export interface RunFacts {
  backend: string;
  seconds: number;
  imagesPerSecond: number;
  /** Where beta changed while training: [step, beta] pairs after the first. */
  betaChanges: [number, number][];
}

const SHARD = 'group1-shard1of1.bin';

/** FNV-1a over the weight bytes: the short version share links carry. */
export function weightsVersion(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

function concat(data: tf.io.WeightData): Uint8Array {
  const parts = Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), o);
    o += p.byteLength;
  }
  return out;
}

async function decoderFiles(trainer: BrowserTrainer): Promise<{ modelJson: ArrayBuffer; shard: Uint8Array }> {
  let artifacts: tf.io.ModelArtifacts | null = null;
  await trainer.models.decoder.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const art = artifacts as unknown as tf.io.ModelArtifacts;
  const shard = concat(art.weightData!);
  const json = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${version_layers}`,
    convertedBy: 'Latent Atelier, trained in the browser (site/scripts/train/)',
    modelTopology: art.modelTopology,
    weightsManifest: [{ paths: [SHARD], weights: art.weightSpecs }],
  };
  return { modelJson: new TextEncoder().encode(JSON.stringify(json)).buffer as ArrayBuffer, shard };
}

function latentMap(trainer: BrowserTrainer, labels: Uint8Array): LatentMap {
  const z = trainer.latentMeans();
  return { classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], z: Array.from(z, (v) => Math.round(v * 1e4) / 1e4), label: Array.from(labels.subarray(0, z.length / 2)), index: Array.from({ length: z.length / 2 }, (_, i) => i) };
}

function parameters(model: { countParams(): number }): number {
  return model.countParams();
}

function manifestFor(trainer: BrowserTrainer, files: Record<string, number>, version: string, facts: RunFacts, data: { train: number; test: number; source: string }): BundleManifest {
  const c: TrainConfig = trainer.config;
  const test = trainer.evaluateTest();
  return {
    format: BUNDLE_FORMAT,
    id: 'trained-in-browser',
    title: 'Digits VAE trained in your browser',
    description: `The FIDLE MNIST VAE trained on this device for ${trainer.steps} steps.`,
    version,
    latentDim: 2,
    image: { height: 28, width: 28, channels: 1 },
    decoder: 'decoder/model.json',
    encoder: null,
    latentMap: 'latent-map.json',
    attributes: null,
    history: null,
    dataset: { name: 'MNIST (subset)', train: data.train, test: data.test, source: data.source, labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] },
    architecture: { encoder: describeModel(trainer.models.encoder), decoder: describeModel(trainer.models.decoder), parameters: { encoder: parameters(trainer.models.encoder), decoder: parameters(trainer.models.decoder) } },
    training: {
      command: 'trained in the browser at /digits/train',
      // Whole epochs (the manifest's rule); steps and images say where in the next one it stopped.
      epochs: trainer.epoch,
      steps: trainer.steps,
      images: trainer.imagesSeen,
      batchSize: c.batchSize,
      beta: trainer.beta,
      ...(facts.betaChanges.length ? { betaChanges: facts.betaChanges } : {}),
      ...(c.warmupEpochs > 0 ? { klWarmupEpochs: c.warmupEpochs } : {}),
      learningRate: c.learningRate,
      optimizer: 'Adam',
      seed: c.seed,
      backend: facts.backend,
      seconds: Math.round(facts.seconds),
      imagesPerSecond: Math.round(facts.imagesPerSecond * 10) / 10,
      reconstructionLoss: 'binary cross-entropy summed over pixels',
      weights: 'float32',
    },
    metrics: { test: { negElbo: test.negElbo, reconstruction: test.reconstruction, kl: test.kl } },
    files,
  };
}

/** Every file of the bundle, paths relative to its folder. */
export async function exportBundle(trainer: BrowserTrainer, testLabels: Uint8Array, facts: RunFacts, data: { train: number; test: number; source: string }): Promise<BundleFile[]> {
  const { modelJson, shard } = await decoderFiles(trainer);
  const map = new TextEncoder().encode(JSON.stringify(latentMap(trainer, testLabels))).buffer as ArrayBuffer;
  const files: Record<string, number> = { 'decoder/model.json': modelJson.byteLength, [`decoder/${SHARD}`]: shard.byteLength, 'latent-map.json': map.byteLength };
  const manifest = manifestFor(trainer, files, weightsVersion(shard), facts, data);
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest, null, 1)).buffer as ArrayBuffer;
  return [
    { path: 'manifest.json', bytes: manifestBytes },
    { path: 'decoder/model.json', bytes: modelJson },
    { path: `decoder/${SHARD}`, bytes: shard.slice().buffer },
    { path: 'latent-map.json', bytes: map },
  ];
}
