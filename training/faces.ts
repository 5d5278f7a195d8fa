/**
 * Attribute vectors for a face model, and the check that they work.
 *
 * Vectors: for each attribute with enough positive and negative training
 * images, mean(z | attribute) - mean(z | not attribute) over encoder means.
 *
 * Check: a small CNN learns the attributes from real images of the set (never
 * from decoded ones). Held-out faces without an attribute are encoded, pushed
 * along its vector with one global scale, decoded and classified: "add" is
 * how often the classifier then sees the attribute; "remove" is the reverse
 * on faces that have it; "others" is how often the unrelated attributes keep
 * the verdict they had on the unedited reconstruction.
 */
import * as tf from '@tensorflow/tfjs';
import { attributeVector, EDIT_SHEET_ATTRIBUTES, editShareText, norm } from '../lib/attributes.ts';
import type { AttributesFile, BundleManifest } from '../lib/bundle.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJson } from './export.ts';
import { updateManifest } from './manifest-writer.ts';
import type { ImageDataset, Split } from './data/types.ts';
import { ProgressBar } from './progress.ts';
import { encodeMeans, decodeToBytes, tile } from './report.ts';
import type { VaeModels } from '../lib/vae-model.ts';

/** Attributes that are changed together by construction: editing one may rightly flip another in its group. */
export const COUPLED_GROUPS: readonly (readonly string[])[] = [
  ['Black_Hair', 'Blond_Hair', 'Brown_Hair', 'Gray_Hair', 'Bald', 'Wearing_Hat', 'Straight_Hair', 'Wavy_Hair', 'Receding_Hairline', 'Bangs'],
  ['No_Beard', 'Mustache', 'Goatee', 'Sideburns', '5_o_Clock_Shadow'],
  ['Smiling', 'Mouth_Slightly_Open'],
];

export function coupled(a: string, b: string): boolean {
  return a === b || COUPLED_GROUPS.some((g) => g.includes(a) && g.includes(b));
}

export interface AttributeReport {
  file: AttributesFile;
  /** Per attribute: add/remove success and the share of other attributes unchanged. */
  table: AttributeEditRow[];
  scale: number;
  classifierAccuracy: Record<string, number>;
}

export interface AttributeEditRow {
  name: string;
  add: number;
  remove: number;
  othersUnchanged: number;
  addCount: number;
  removeCount: number;
  /** The other attributes whose verdict the edit changed most often: share of the edited faces, highest first (up to 3). */
  flips?: { name: string; share: number }[];
}

/** What counts as an edit that works: both directions and the other attributes at least this often. */
export const EDIT_TARGET = 0.8;

/** Whether an edit meets the target: add, remove and others unchanged all at least EDIT_TARGET. */
export function editWorks(r: AttributeEditRow): boolean {
  return r.add >= EDIT_TARGET && r.remove >= EDIT_TARGET && r.othersUnchanged >= EDIT_TARGET;
}

function attributeColumn(split: Split, names: readonly string[], name: string): Int8Array {
  const j = names.indexOf(name);
  const a = split.attributes!;
  const out = new Int8Array(split.count);
  for (let i = 0; i < split.count; i++) out[i] = a[i * names.length + j]!;
  return out;
}

/** Attribute vectors from the encoder means of the whole training split. */
export function computeAttributeVectors(models: VaeModels, data: ImageDataset, modelVersion: string, minCount = Math.min(200, Math.ceil(0.02 * data.train.count))): { file: AttributesFile; trainMeans: Float32Array } {
  const names = data.attributeNames ?? [];
  const split = data.train;
  if (!split.attributes) throw new Error(`${data.name} has no attribute labels`);
  const d = models.encoder.outputs[0]!.shape[1] as number;
  const bar = new ProgressBar({ total: split.count, label: 'encoding for attribute vectors', unit: 'img' });
  const means = new Float32Array(split.count * d);
  const step = 500;
  for (let s = 0; s < split.count; s += step) {
    const idx = Int32Array.from({ length: Math.min(step, split.count - s) }, (_, i) => s + i);
    means.set(encodeMeans(models.encoder, split, idx), s * d);
    bar.update(s + idx.length);
  }
  bar.finish();
  const file: AttributesFile = { latentDim: d, modelVersion, attributes: [], omitted: [] };
  for (const name of names) {
    const labels = attributeColumn(split, names, name);
    const { vector, positives, negatives } = attributeVector(means, d, labels);
    if (positives < minCount || negatives < minCount) {
      file.omitted.push({ name, positives, negatives, reason: `fewer than ${minCount} ${positives < minCount ? 'positive' : 'negative'} examples` });
      continue;
    }
    file.attributes.push({ name, vector: Array.from(vector, (v) => Math.round(v * 1e5) / 1e5), positives, negatives, norm: Math.round(norm(vector) * 1e4) / 1e4 });
  }
  return { file, trainMeans: means };
}

/** A small multi-label CNN: the judge of whether an edit worked. */
export function buildAttributeClassifier(image: { height: number; width: number; channels: number }, count: number): tf.LayersModel {
  const m = tf.sequential({ name: 'attribute_classifier' });
  m.add(tf.layers.averagePooling2d({ inputShape: [image.height, image.width, image.channels], poolSize: 2 }));
  for (const filters of [16, 32, 64]) {
    m.add(tf.layers.conv2d({ filters, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: filters }) }));
  }
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  m.add(tf.layers.dense({ units: count, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  return m;
}

/** Trains the classifier on real training images; returns it with per-attribute test accuracy. */
export function trainAttributeClassifier(data: ImageDataset, names: readonly string[], epochs = 2): { model: tf.LayersModel; accuracy: Record<string, number> } {
  const all = data.attributeNames!;
  const cols = names.map((n) => all.indexOf(n));
  const model = buildAttributeClassifier(data.image, names.length);
  const optimizer = tf.train.adam(2e-3);
  const shape = [data.image.height, data.image.width, data.image.channels];
  const targets = (split: Split, indices: ArrayLike<number>) => {
    const t = new Float32Array(indices.length * cols.length);
    for (let k = 0; k < indices.length; k++) cols.forEach((c, j) => (t[k * cols.length + j] = split.attributes![indices[k]! * all.length + c]! > 0 ? 1 : 0));
    return t;
  };
  for (let e = 0; e < epochs; e++) {
    const bar = new ProgressBar({ total: data.train.count, label: `attribute classifier ${e + 1}/${epochs}`, unit: 'img' });
    let seen = 0;
    let lossSum = 0;
    for (const b of data.train.batches(64, 1000 + e)) {
      const loss = tf.tidy(() => {
        const x = tf.tensor4d(b.x, [b.size, ...shape] as [number, number, number, number]);
        const y = tf.tensor2d(targets(data.train, b.indices), [b.size, cols.length]);
        return optimizer.minimize(() => tf.losses.sigmoidCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!.dataSync()[0]!;
      });
      seen += b.size;
      lossSum += loss * b.size;
      bar.update(seen, `loss ${(lossSum / seen).toFixed(3)}`);
    }
    bar.finish();
  }
  optimizer.dispose();
  const pred = classify(model, (idx) => data.test.read(idx), data.test.count, data.image);
  const accuracy: Record<string, number> = {};
  names.forEach((n, j) => {
    let right = 0;
    for (let i = 0; i < data.test.count; i++) right += (pred[i * names.length + j]! > 0.5) === (data.test.attributes![i * all.length + cols[j]!]! > 0) ? 1 : 0;
    accuracy[n] = right / data.test.count;
  });
  return { model, accuracy };
}

/** Classifier probabilities for n images fetched by `read`, flat [n * attributes]. */
export function classify(model: tf.LayersModel, read: (idx: Int32Array) => Float32Array, n: number, image: { height: number; width: number; channels: number }): Float32Array {
  const out: number[] = [];
  for (let s = 0; s < n; s += 256) {
    const idx = Int32Array.from({ length: Math.min(256, n - s) }, (_, i) => s + i);
    const p = tf.tidy(() => tf.sigmoid(model.predict(tf.tensor4d(read(idx), [idx.length, image.height, image.width, image.channels])) as tf.Tensor).dataSync());
    out.push(...p);
  }
  return Float32Array.from(out);
}

export function decodeFloat(decoder: tf.LayersModel, z: Float32Array, d: number): Float32Array {
  return tf.tidy(() => (decoder.predict(tf.tensor2d(z, [z.length / d, d])) as tf.Tensor).dataSync() as Float32Array);
}

/** Faces to edit: their encoder means and labels. */
export interface EditSet {
  z: Float32Array;
  attributes: Int8Array;
  count: number;
}

/** Encodes the first `n` images of a split for measureEdits. */
export function editSet(models: VaeModels, split: Split, names: readonly string[], n = split.count): EditSet {
  const count = Math.min(n, split.count);
  const z = encodeMeans(models.encoder, split, Int32Array.from({ length: count }, (_, i) => i));
  return { z, attributes: split.attributes!.subarray(0, count * names.length), count };
}

/**
 * Measures edits: for each attribute, up to `perAttribute` faces without it
 * get +scale * vector, faces with it get -scale * vector.
 */
export function measureEdits(models: VaeModels, data: ImageDataset, set: EditSet, file: AttributesFile, classifier: tf.LayersModel, scale: number, perAttribute = 200): AttributeEditRow[] {
  const names = file.attributes.map((a) => a.name);
  const all = data.attributeNames!;
  const d = file.latentDim;
  const { z: zAll, attributes, count: n } = set;
  const per = data.image.height * data.image.width * data.image.channels;
  const rows: AttributeEditRow[] = [];
  for (const [j, attr] of file.attributes.entries()) {
    const col = all.indexOf(attr.name);
    const result = { add: 0, remove: 0, addCount: 0, removeCount: 0, othersKept: 0, othersTotal: 0 };
    const flipped = new Array<number>(names.length).fill(0);
    for (const sign of [1, -1]) {
      const chosen: number[] = [];
      for (let i = 0; i < n && chosen.length < perAttribute; i++) if ((attributes[i * all.length + col]! > 0) === (sign < 0)) chosen.push(i);
      if (chosen.length === 0) continue;
      const base = new Float32Array(chosen.length * d);
      const edited = new Float32Array(chosen.length * d);
      chosen.forEach((i, k) => {
        for (let q = 0; q < d; q++) {
          base[k * d + q] = zAll[i * d + q]!;
          edited[k * d + q] = zAll[i * d + q]! + sign * scale * attr.vector[q]!;
        }
      });
      const imgBase = decodeFloat(models.decoder, base, d);
      const imgEdit = decodeFloat(models.decoder, edited, d);
      const slice = (img: Float32Array) => (idx: Int32Array) => img.subarray(idx[0]! * per, (idx[idx.length - 1]! + 1) * per);
      const pBase = classify(classifier, slice(imgBase), chosen.length, data.image);
      const pEdit = classify(classifier, slice(imgEdit), chosen.length, data.image);
      for (let k = 0; k < chosen.length; k++) {
        const has = pEdit[k * names.length + j]! > 0.5;
        if (sign > 0 && has) result.add++;
        if (sign < 0 && !has) result.remove++;
        names.forEach((other, o) => {
          if (coupled(other, attr.name)) return;
          result.othersTotal++;
          if ((pEdit[k * names.length + o]! > 0.5) === (pBase[k * names.length + o]! > 0.5)) result.othersKept++;
          else flipped[o]!++;
        });
      }
      if (sign > 0) result.addCount = chosen.length;
      else result.removeCount = chosen.length;
    }
    rows.push({
      name: attr.name,
      add: result.addCount ? result.add / result.addCount : NaN,
      remove: result.removeCount ? result.remove / result.removeCount : NaN,
      othersUnchanged: result.othersTotal ? result.othersKept / result.othersTotal : NaN,
      addCount: result.addCount,
      removeCount: result.removeCount,
      flips: flipped
        .map((f, o) => ({ name: names[o]!, share: f / Math.max(1, result.addCount + result.removeCount) }))
        .filter((f) => f.share > 0)
        .sort((p, q) => q.share - p.share)
        .slice(0, 3),
    });
  }
  return rows;
}

/**
 * How often the classifier reads each attribute correctly on the model's own
 * reconstructions of the edit set's faces: an edit can only show what the
 * decoder can draw, so this bounds "add" and "remove" from above and tells a
 * weak vector from a model that loses the detail (a mouth, a moustache).
 */
export function reconstructionAccuracy(models: VaeModels, data: ImageDataset, set: EditSet, file: AttributesFile, classifier: tf.LayersModel, n = 1000): Record<string, number> {
  const names = file.attributes.map((a) => a.name);
  const all = data.attributeNames!;
  const d = file.latentDim;
  const count = Math.min(n, set.count);
  const per = data.image.height * data.image.width * data.image.channels;
  const right = new Array<number>(names.length).fill(0);
  for (let s = 0; s < count; s += 250) {
    const m = Math.min(250, count - s);
    const images = decodeFloat(models.decoder, set.z.subarray(s * d, (s + m) * d), d);
    const p = classify(classifier, (idx) => images.subarray(idx[0]! * per, (idx[idx.length - 1]! + 1) * per), m, data.image);
    for (let k = 0; k < m; k++) {
      names.forEach((name, j) => {
        const truth = set.attributes[(s + k) * all.length + all.indexOf(name)]! > 0;
        if ((p[k * names.length + j]! > 0.5) === truth) right[j]!++;
      });
    }
  }
  return Object.fromEntries(names.map((name, j) => [name, right[j]! / count]));
}

/** A sheet: each row one test face, columns the reconstruction then +1 scale of each chosen attribute. */
export function attributeEditsPng(models: VaeModels, data: ImageDataset, file: AttributesFile, scale: number, attributes: string[], faces = 6): Uint8Array {
  const d = file.latentDim;
  const z = encodeMeans(models.encoder, data.test, Int32Array.from({ length: faces }, (_, i) => i));
  const vecs = attributes.map((n) => file.attributes.find((a) => a.name === n)).filter((a) => a !== undefined);
  const cols = vecs.length + 1;
  const all = new Float32Array(faces * cols * d);
  for (let f = 0; f < faces; f++) {
    for (let c = 0; c < cols; c++) {
      for (let q = 0; q < d; q++) {
        const v = c === 0 ? 0 : vecs[c - 1]!.vector[q]!;
        // Push toward the attribute: subtract for faces that already have it, so every column shows a change.
        all[(f * cols + c) * d + q] = z[f * d + q]! + scale * v;
      }
    }
  }
  const { bytes, h, w, c } = decodeToBytes(models.decoder, all, d);
  return tile(bytes, faces * cols, h, w, c, cols).png;
}

/**
 * Tries a few global scales on training faces (never the test set) and keeps
 * the one under which the most attributes edit well (add, remove and others
 * unchanged all at least EDIT_TARGET); the mean of each attribute's worst
 * figure breaks ties. (Maximising the single worst attribute instead let one
 * vector the decoder cannot follow, such as Brown_Hair's add, decide the scale
 * for all.)
 */
export function chooseScale(models: VaeModels, data: ImageDataset, file: AttributesFile, classifier: tf.LayersModel, candidates = [1.5, 2, 2.5, 3, 3.5]): number {
  if (candidates.length === 1) return candidates[0]!;
  const set = editSet(models, data.train, data.attributeNames!, 1500);
  let best = candidates[0]!;
  let bestScore = -Infinity;
  const bar = new ProgressBar({ total: candidates.length, label: 'choosing the edit scale', unit: 'scale' });
  for (const [i, s] of candidates.entries()) {
    const rows = measureEdits(models, data, set, file, classifier, s, 100).filter((r) => [r.add, r.remove, r.othersUnchanged].every(Number.isFinite));
    const working = rows.filter(editWorks).length;
    const meanWorst = rows.reduce((n, r) => n + Math.min(r.add, r.remove, r.othersUnchanged), 0) / Math.max(1, rows.length);
    const score = working + meanWorst;
    bar.update(i + 1, `scale ${s}: ${working} of ${rows.length} edits work`);
    if (score > bestScore) {
      bestScore = score;
      best = s;
    }
  }
  bar.finish(`chose ${best}`);
  return best;
}

/** The attributes the edit sheet shows, where the model has them. */

/**
 * Adds attributes.json, the edit table and the edit sheet to a written face
 * bundle, and rewrites its manifest with them.
 */
export interface AttributeCheckOptions {
  /** Global scales tried on training faces; the best balanced one is used on the test set. */
  scales?: number[];
  /** Test faces edited per attribute and direction. */
  perAttribute?: number;
  classifierEpochs?: number;
  log?: (s: string) => void;
}

export async function addAttributesToBundle(models: VaeModels, data: ImageDataset, manifest: BundleManifest, outDir: string, opts: AttributeCheckOptions = {}): Promise<BundleManifest> {
  const log = opts.log ?? console.log;
  const { file } = computeAttributeVectors(models, data, manifest.version);
  writeJson(join(outDir, 'attributes.json'), file);
  const absent = file.omitted.filter((o) => o.positives === 0).map((o) => o.name);
  const few = file.omitted.filter((o) => o.positives > 0);
  log(`Attribute vectors: ${file.attributes.length} kept (${file.attributes.map((a) => a.name).join(', ')})`);
  if (few.length) log(`  left out for too few examples: ${few.map((o) => `${o.name} (${o.positives}+/${o.negatives}-)`).join(', ')}`);
  if (absent.length) log(`  never present in the data: ${absent.join(', ')}`);
  const names = file.attributes.map((a) => a.name);
  const { model: classifier, accuracy } = trainAttributeClassifier(data, names, opts.classifierEpochs);
  const scale = chooseScale(models, data, file, classifier, opts.scales);
  const testSet = editSet(models, data.test, data.attributeNames!);
  const table = measureEdits(models, data, testSet, file, classifier, scale, opts.perAttribute);
  const onReconstructions = reconstructionAccuracy(models, data, testSet, file, classifier);
  classifier.dispose();
  log(`Edits at scale ${scale} (add / remove / others unchanged):`);
  const pct = (v: number) => editShareText(v, Number.isFinite(v) ? 1 : 0, 1).padStart(6);
  for (const r of table) {
    const flips = r.othersUnchanged < 0.9 && r.flips?.length ? `; most flipped: ${r.flips.map((f) => `${f.name} ${pct(f.share).trim()}`).join(', ')}` : '';
    log(`  ${editWorks(r) ? '✓' : ' '} ${r.name.padEnd(20)} ${pct(r.add)}  ${pct(r.remove)}  ${pct(r.othersUnchanged)}   (classifier right on reconstructions ${pct(onReconstructions[r.name]!).trim()}, on real faces ${pct(accuracy[r.name]!).trim()}${flips})`);
  }
  log(`${table.filter(editWorks).length} of ${table.length} edits meet the target (add, remove and others unchanged all >= ${100 * EDIT_TARGET}%).`);
  writeFileSync(join(outDir, 'attribute-edits.png'), attributeEditsPng(models, data, file, scale, EDIT_SHEET_ATTRIBUTES.filter((n) => names.includes(n))));
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return updateManifest(outDir, (m) => ({
    ...m,
    attributes: 'attributes.json',
    figures: { ...m.figures, attributeEdits: 'attribute-edits.png' },
    metrics: {
      ...m.metrics,
      attributeEdits: {
        method: 'encode held-out faces, add (or subtract) scale x vector, decode, classify with a CNN trained on real images of the set; others = attributes outside the edited one\'s coupled group keeping their verdict from the unedited reconstruction',
        scale,
        classifierTestAccuracy: Object.fromEntries(Object.entries(accuracy).map(([k, v]) => [k, round(v)])),
        classifierOnReconstructions: Object.fromEntries(Object.entries(onReconstructions).map(([k, v]) => [k, round(v)])),
        target: EDIT_TARGET,
        rows: table.map((r) => ({ ...r, add: round(r.add), remove: round(r.remove), othersUnchanged: round(r.othersUnchanged), flips: r.flips?.map((f) => ({ name: f.name, share: round(f.share) })) })),
      },
    },
  }));
}
