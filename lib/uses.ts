/**
 * The "uses" part of a bundle, written by training/uses-cli.ts and read by the
 * pages under site/pages/uses/: the numbers live in manifest.metrics.uses, and
 * the three files they name sit beside the manifest (paths relative to it).
 */
import { isBundlePath, type BundleManifest } from './bundle.ts';

export interface AnomalyMetrics {
  /** How the score is defined, in words (lib/anomaly.ts). */
  score: string;
  /** ROC AUC of the score, MNIST test digits (negatives) against Fashion-MNIST test items (positives). */
  auroc: number;
  /** The same for each term of the score alone, for comparison. */
  aurocByTerm: { reconstruction: number; kl: number };
  /** Scores above this are flagged: the `thresholdPercentile`-th percentile of the MNIST test scores. */
  threshold: number;
  thresholdPercentile: number;
  /** Share of MNIST test digits flagged (by construction close to 1 - percentile / 100). */
  falsePositiveRate: number;
  /** Share of Fashion-MNIST test items flagged. */
  truePositiveRate: number;
  mnistCount: number;
  fashionCount: number;
  mnistMedian: number;
  fashionMedian: number;
  /** Score distributions for the page's plot; edges are shared, counts per set. */
  histogram: { edges: number[]; mnist: number[]; fashion: number[] };
}

export interface ClusteringScore {
  /** Purity of k-means on the training points (the points it was fitted on). */
  purity: number;
  /** Purity when the test points are assigned to the nearest training centroid. */
  testPurity: number;
}

export interface ClusterMetrics {
  k: number;
  restarts: number;
  seed: number;
  trainPoints: number;
  testPoints: number;
  vae: ClusteringScore;
  pca: ClusteringScore;
}

export interface ReductionMetrics {
  k: number;
  trainPoints: number;
  testPoints: number;
  /** kNN accuracy on the test points, neighbours found among the training points, in each 2-D space. */
  vaeAccuracy: number;
  pcaAccuracy: number;
  /** Share of pixel variance the two principal components explain. */
  pcaExplainedVariance: number;
}

export interface UsesFiles {
  /** The 2-D PCA projection of the latent map's test points (PcaMapFile). */
  pcaMap: string;
  /** k-means clusters of both spaces, assignments of the map's points (ClustersFile). */
  clusters: string;
  /** A few MNIST and Fashion-MNIST test images with their build-time scores (AnomalyExamplesFile). */
  anomalyExamples: string;
}

/** The targets, and whether this model meets them. */
export interface UsesTargets {
  /** AUROC at least `aurocTarget`. */
  auroc: boolean;
  aurocTarget: number;
  /** k-means purity in the VAE space above that in the PCA space. */
  clustersBeatPca: boolean;
  /** kNN accuracy in the VAE space above that in the PCA space. */
  knnBeatsPca: boolean;
}

export interface UsesMetrics {
  /** The command that wrote these numbers. */
  command: string;
  /** The bundle version (decoder hash) they were computed for. */
  modelVersion: string;
  seconds: number;
  backend: string;
  anomaly: AnomalyMetrics;
  clusters: ClusterMetrics;
  reduction: ReductionMetrics;
  targets: UsesTargets;
  files: UsesFiles;
}

export interface PcaMapFile {
  classes: string[];
  /** Flat [x0, y0, ...] coordinates on the first two principal components of the raw pixels. */
  z: number[];
  label: number[];
  index: number[];
  explainedVariance: [number, number];
}

export interface ClusterInfo {
  cluster: number;
  size: number;
  majority: number;
  purity: number;
  centroid: [number, number];
}

export interface SpaceClusters {
  /** Cluster of each latent-map point (nearest training centroid), in map order. */
  assignment: number[];
  clusters: ClusterInfo[];
}

export interface ClustersFile {
  k: number;
  classes: string[];
  vae: SpaceClusters;
  pca: SpaceClusters;
}

export interface AnomalyExample {
  source: 'mnist' | 'fashion';
  /** Class name in its own data set ("7", "Sneaker"). */
  label: string;
  /** Index in its data set's test split. */
  index: number;
  /** Why it is in the list ("one per class", "highest-scoring digit", ...). */
  note: string;
  /** height x width grey bytes, base64url (lib/base64url.ts). */
  pixels: string;
  /** Build-time score, for checking the browser's. */
  score: number;
}

export interface AnomalyExamplesFile {
  image: { height: number; width: number };
  threshold: number;
  examples: AnomalyExample[];
}

type Json = Record<string, unknown>;

export class UsesError extends Error {
  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = 'UsesError';
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, where: string): Json {
  if (!isObject(v)) throw new UsesError(where, 'must be an object');
  return v;
}

function num(o: Json, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UsesError(where, `"${key}" must be a finite number`);
  return v;
}

function numbers(v: unknown, where: string, length?: number): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new UsesError(where, 'must be an array of finite numbers');
  if (length !== undefined && v.length !== length) throw new UsesError(where, `must hold ${length} numbers, not ${v.length}`);
  return v as number[];
}

function strings(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new UsesError(where, 'must be an array of strings');
  return v as string[];
}

function relPath(v: unknown, where: string): string {
  if (!isBundlePath(v)) throw new UsesError(where, `must be a relative path inside the bundle, got ${JSON.stringify(v)}`);
  return v;
}

/** Why a bundle cannot have uses metrics (they need a 2-D model of 28x28 labelled digits with an encoder), or null when it can. */
export function whyNoUsesMetrics(m: Pick<BundleManifest, 'encoder' | 'image' | 'latentDim' | 'latentMap' | 'dataset'>): string | null {
  const { height, width, channels } = m.image;
  if (!m.encoder) return 'it has no encoder';
  if (height !== 28 || width !== 28 || channels !== 1) return `its images are ${height}x${width}x${channels}, not 28x28 grey digits`;
  if (m.latentDim !== 2) return `its latent space has ${m.latentDim} dimensions, and the uses pages compare 2-D maps`;
  if (!m.latentMap) return 'it has no latent map';
  if ((m.dataset.labels?.length ?? 0) !== 10) return 'its data set has no 10 class labels';
  return null;
}

/** manifest.metrics.uses, checked; null when the bundle has none (it was never evaluated, or has no labels). */
export function usesMetricsOf(manifest: Pick<BundleManifest, 'metrics'>): UsesMetrics | null {
  const raw = (manifest.metrics as Json).uses;
  if (raw === undefined || raw === null) return null;
  const where = 'manifest.json metrics.uses';
  const u = obj(raw, where);
  const a = obj(u.anomaly, `${where}.anomaly`);
  const c = obj(u.clusters, `${where}.clusters`);
  const r = obj(u.reduction, `${where}.reduction`);
  const f = obj(u.files, `${where}.files`);
  for (const key of ['auroc', 'threshold', 'thresholdPercentile', 'falsePositiveRate', 'truePositiveRate', 'mnistCount', 'fashionCount', 'mnistMedian', 'fashionMedian']) num(a, key, `${where}.anomaly`);
  const h = obj(a.histogram, `${where}.anomaly.histogram`);
  const edges = numbers(h.edges, `${where}.anomaly.histogram.edges`);
  numbers(h.mnist, `${where}.anomaly.histogram.mnist`, edges.length - 1);
  numbers(h.fashion, `${where}.anomaly.histogram.fashion`, edges.length - 1);
  for (const key of ['k', 'trainPoints', 'testPoints']) num(c, key, `${where}.clusters`);
  for (const space of ['vae', 'pca']) {
    const s = obj(c[space], `${where}.clusters.${space}`);
    num(s, 'purity', `${where}.clusters.${space}`);
    num(s, 'testPurity', `${where}.clusters.${space}`);
  }
  for (const key of ['k', 'vaeAccuracy', 'pcaAccuracy', 'pcaExplainedVariance']) num(r, key, `${where}.reduction`);
  for (const key of ['pcaMap', 'clusters', 'anomalyExamples']) relPath(f[key], `${where}.files.${key}`);
  return u as unknown as UsesMetrics;
}

export function parsePcaMap(json: unknown, where = 'pca-map.json'): PcaMapFile {
  const o = obj(json, where);
  const label = numbers(o.label, `${where} label`);
  const z = numbers(o.z, `${where} z`, label.length * 2);
  return {
    classes: strings(o.classes, `${where} classes`),
    z,
    label,
    index: numbers(o.index, `${where} index`, label.length),
    explainedVariance: numbers(o.explainedVariance, `${where} explainedVariance`, 2) as [number, number],
  };
}

function parseSpace(v: unknown, k: number, where: string): SpaceClusters {
  const o = obj(v, where);
  const assignment = numbers(o.assignment, `${where}.assignment`);
  if (assignment.some((a) => !Number.isInteger(a) || a < 0 || a >= k)) throw new UsesError(`${where}.assignment`, `must hold cluster numbers 0..${k - 1}`);
  if (!Array.isArray(o.clusters) || o.clusters.length !== k) throw new UsesError(`${where}.clusters`, `must list ${k} clusters`);
  const clusters = o.clusters.map((item, i) => {
    const w = `${where}.clusters[${i}]`;
    const c = obj(item, w);
    const purity = c.purity === null ? NaN : num(c, 'purity', w);
    return { cluster: num(c, 'cluster', w), size: num(c, 'size', w), majority: num(c, 'majority', w), purity, centroid: numbers(c.centroid, `${w}.centroid`, 2) as [number, number] };
  });
  return { assignment, clusters };
}

export function parseClusters(json: unknown, where = 'clusters.json'): ClustersFile {
  const o = obj(json, where);
  const k = num(o, 'k', where);
  return { k, classes: strings(o.classes, `${where} classes`), vae: parseSpace(o.vae, k, `${where} vae`), pca: parseSpace(o.pca, k, `${where} pca`) };
}

export function parseAnomalyExamples(json: unknown, where = 'anomaly-examples.json'): AnomalyExamplesFile {
  const o = obj(json, where);
  const image = obj(o.image, `${where} image`);
  if (!Array.isArray(o.examples)) throw new UsesError(where, '"examples" must be an array');
  const examples = o.examples.map((item, i): AnomalyExample => {
    const w = `${where} examples[${i}]`;
    const e = obj(item, w);
    if (e.source !== 'mnist' && e.source !== 'fashion') throw new UsesError(w, '"source" must be "mnist" or "fashion"');
    for (const key of ['label', 'note', 'pixels']) if (typeof e[key] !== 'string') throw new UsesError(w, `"${key}" must be a string`);
    return { source: e.source as AnomalyExample['source'], label: e.label as string, note: e.note as string, pixels: e.pixels as string, index: num(e, 'index', w), score: num(e, 'score', w) };
  });
  return { image: { height: num(image, 'height', `${where} image`), width: num(image, 'width', `${where} image`) }, threshold: num(o, 'threshold', where), examples };
}
