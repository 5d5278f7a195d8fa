/**
 * The browser's training code (site/scripts/train/trainer.ts) against Node
 * training (training/train.ts) on the same backend, data, seed and settings:
 * the shared model, loss, step and batch order must give the same losses and
 * the same weights. Also: tensors stay flat over many steps, and the bundle
 * the page exports loads back through tfjs and decodes like the live model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLatentMap, parseManifest } from '../../lib/bundle.ts';
import { readDigitSet, type DigitSet, type DigitSplit } from '../../lib/digit-set.ts';
import { buildVae, DIGITS_ARCHITECTURE } from '../../lib/vae-model.ts';
import { BrowserTrainer } from '../../site/scripts/train/trainer.ts';
import { exportBundle } from '../../site/scripts/train/trainer-export.ts';
import { selectBackend } from '../../training/backend.ts';
import { MemorySplit } from '../../training/data/split.ts';
import type { ImageDataset } from '../../training/data/types.ts';
import { train, type TrainSettings } from '../../training/train.ts';

let full: DigitSet;

function head(s: DigitSplit, n: number): DigitSplit {
  return { count: n, images: s.images.subarray(0, n * 784), labels: s.labels.subarray(0, n) };
}

function subset(trainCount: number, testCount: number): DigitSet {
  return { ...full, train: head(full.train, trainCount), test: head(full.test, testCount) };
}

beforeAll(async () => {
  expect((await selectBackend('wasm', 2)).name).toMatch(/^wasm/);
  full = await readDigitSet(new Uint8Array(readFileSync('public/data/mnist-10k.bin')), 'public/data/mnist-10k.bin');
});

function nodeDataset(set: DigitSet): ImageDataset {
  return {
    name: 'MNIST subset',
    source: set.source,
    image: { height: 28, width: 28, channels: 1 },
    train: new MemorySplit(set.train.images, 784, set.train.labels),
    test: new MemorySplit(set.test.images, 784, set.test.labels),
  };
}

describe('training in the browser', () => {
  it('gives the losses and weights Node training gives for the same run', async () => {
    const set = subset(320, 100);
    const config = { beta: 1, learningRate: 1e-3, batchSize: 64, warmupEpochs: 0, epochs: 1, seed: 7 };
    const browser = new BrowserTrainer(set, config);
    const steps = Array.from({ length: 5 }, () => browser.step());
    expect(browser.finished).toBe(true);

    const models = buildVae({ height: 28, width: 28, channels: 1 }, 2, DIGITS_ARCHITECTURE, config.seed);
    const settings: TrainSettings = { epochs: 1, batchSize: 64, learningRate: 1e-3, beta: 1, seed: 7, latentDim: 2, trainLimit: 0, testLimit: 100, checkpointPath: join(mkdtempSync(join(tmpdir(), 'bt-')), 'ck.bin'), checkpointMinutes: 999 };
    const { state } = await train(models, nodeDataset(set), settings, { resume: false, command: 'test', log: () => {} });
    const node = state.history[0]!.train;
    const mean = (k: 'reconstruction' | 'kl') => steps.reduce((n, s) => n + s[k] * 64, 0) / 320;
    expect(mean('reconstruction')).toBeCloseTo(node.reconstruction, 3);
    expect(mean('kl')).toBeCloseTo(node.kl, 4);
    // The weights after the same five steps are the same numbers.
    const a = browser.models.decoder.getWeights().map((w) => w.dataSync());
    const b = models.decoder.getWeights().map((w) => w.dataSync());
    expect(a.length).toBe(b.length);
    a.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(b[i]!)));
    // And the loss fell from the first step to the last.
    expect(steps[4]!.loss).toBeLessThan(steps[0]!.loss);
    browser.dispose();
  }, 120_000);

  it('warms the KL weight up from 0 to beta over the warm-up epochs, and follows a beta changed mid-run', () => {
    const set = subset(640, 20);
    const t = new BrowserTrainer(set, { beta: 2, learningRate: 1e-3, batchSize: 64, warmupEpochs: 1, epochs: 2, seed: 3 });
    expect(t.klWeight).toBe(0);
    for (let i = 0; i < 5; i++) t.step();
    expect(t.klWeight).toBeCloseTo(1, 6);
    t.beta = 4;
    expect(t.klWeight).toBeCloseTo(2, 6);
    for (let i = 0; i < 5; i++) t.step();
    expect(t.klWeight).toBe(4);
    t.dispose();
    const off = new BrowserTrainer(set, { beta: 2, learningRate: 1e-3, batchSize: 64, warmupEpochs: 0, epochs: 1, seed: 3 });
    expect(off.klWeight).toBe(2);
    off.dispose();
  });

  it('holds the number of tensors flat over many steps, maps and grids, and frees everything on dispose', () => {
    const before = tf.memory().numTensors;
    const t = new BrowserTrainer(subset(2000, 200), { beta: 1, learningRate: 1e-3, batchSize: 32, warmupEpochs: 0, epochs: 2, seed: 1 });
    t.step();
    const afterFirst = tf.memory().numTensors;
    for (let i = 0; i < 60; i++) {
      t.step();
      if (i % 20 === 0) {
        t.latentMeans();
        t.decodeGrid(5, 3);
      }
    }
    expect(tf.memory().numTensors).toBe(afterFirst);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('exports a bundle that parses and decodes with the trained weights', async () => {
    const set = subset(256, 60);
    const t = new BrowserTrainer(set, { beta: 1, learningRate: 1e-3, batchSize: 64, warmupEpochs: 0, epochs: 1, seed: 2 });
    // Three of the epoch's four batches: a model exported mid-epoch must load too.
    for (let i = 0; i < 3; i++) t.step();
    const files = await exportBundle(t, set.test.labels, { backend: 'wasm', seconds: 1, imagesPerSecond: 256, betaChanges: [] }, { train: 256, test: 60, source: set.source });
    const byPath = new Map(files.map((f) => [f.path, new Uint8Array(f.bytes)]));
    const json = (p: string) => JSON.parse(new TextDecoder().decode(byPath.get(p)!)) as unknown;
    const manifest = parseManifest(json('manifest.json'));
    expect(manifest.latentDim).toBe(2);
    expect(manifest.training).toMatchObject({ epochs: 0, steps: 3, images: 192 });
    expect(manifest.files?.['decoder/group1-shard1of1.bin']).toBe(byPath.get('decoder/group1-shard1of1.bin')!.byteLength);
    expect(parseLatentMap(json('latent-map.json')).label.length).toBe(60);
    const modelJson = json(manifest.decoder) as tf.io.ModelJSON;
    const weights = byPath.get('decoder/group1-shard1of1.bin')!;
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(modelJson.modelTopology, modelJson.weightsManifest[0]!.weights, weights.slice().buffer));
    const z = tf.tensor2d([[0.5, -1], [2, 0]]);
    const [want, got] = [t.models.decoder.predict(z) as tf.Tensor, loaded.predict(z) as tf.Tensor];
    expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
    tf.dispose([z, want, got]);
    loaded.dispose();
    t.dispose();
  }, 120_000);
});
