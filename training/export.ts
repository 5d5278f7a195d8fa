/**
 * Writes a bundle's networks (shared/ARCHITECTURE.md): the decoder and encoder
 * as tfjs LayersModels with weights in shards of at most 4 MB (optionally
 * float16). manifest.json, which names every file, has its own writer
 * (training/manifest-writer.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encodeHalf } from '../lib/float16.ts';

export const MAX_SHARD_BYTES = 4 * 1024 * 1024;

export interface SavedModelInfo {
  /** Paths relative to the bundle folder. */
  modelJson: string;
  shards: string[];
  bytes: number;
  /** SHA-256 of the weight bytes as written. */
  sha256: string;
}

/** Splits bytes into shards of at most `max` bytes. */
export function shardBytes(bytes: Uint8Array, max = MAX_SHARD_BYTES): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += max) out.push(bytes.subarray(o, Math.min(o + max, bytes.length)));
  return out.length ? out : [new Uint8Array(0)];
}

function concatWeightData(data: tf.io.WeightData): Uint8Array {
  const buffers = Array.isArray(data) ? data : [data];
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), o);
    o += b.byteLength;
  }
  return out;
}

/** Saves `model` as `<dir>/model.json` + `group1-shardNofM.bin`, replacing an older copy. */
export async function saveLayersModel(model: tf.LayersModel, dir: string, opts: { float16: boolean; maxShardBytes?: number }): Promise<SavedModelInfo> {
  let artifacts: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const art = artifacts as unknown as tf.io.ModelArtifacts;
  let weightData = concatWeightData(art.weightData!);
  let specs = art.weightSpecs!;
  if (opts.float16) {
    if (specs.some((s) => s.dtype !== 'float32')) throw new Error('float16 export supports float32 weights only');
    weightData = encodeHalf(new Float32Array(weightData.buffer, weightData.byteOffset, weightData.byteLength / 4));
    specs = specs.map((s) => ({ ...s, quantization: { dtype: 'float16' as const, original_dtype: 'float32' as const } }));
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const shards = shardBytes(weightData, opts.maxShardBytes ?? MAX_SHARD_BYTES);
  const names = shards.map((_, i) => `group1-shard${i + 1}of${shards.length}.bin`);
  shards.forEach((s, i) => writeFileSync(join(dir, names[i]!), s));
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: 'Latent Atelier training/export.ts',
    modelTopology: art.modelTopology,
    weightsManifest: [{ paths: names, weights: specs }],
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
  return {
    modelJson: 'model.json',
    shards: names,
    bytes: weightData.length,
    sha256: createHash('sha256').update(weightData).digest('hex'),
  };
}

/** Loads a saved LayersModel from disk through tfjs' own loader (no network, no tfjs-node). */
export async function loadLayersModelFromDir(dir: string): Promise<tf.LayersModel> {
  const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const handler: tf.io.IOHandler = {
    load: async () => {
      const buffers = modelJson.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
      const total = buffers.reduce((n, b) => n + b.length, 0);
      const data = new Uint8Array(total);
      let o = 0;
      for (const b of buffers) {
        data.set(b, o);
        o += b.length;
      }
      return tf.io.getModelArtifactsForJSONSync(modelJson, modelJson.weightsManifest.flatMap((g) => g.weights), data.buffer);
    },
  };
  return tf.loadLayersModel(handler);
}

/** JSON with one-space indents, but every array of numbers on one line: a 64×64 matrix stays a few kilobytes of lines, not 4,096 of them. */
export function compactJson(value: unknown): string {
  return JSON.stringify(value, null, 1).replace(/\[\n\s*(-?\d[\d.eE+-]*(?:,\n\s*-?\d[\d.eE+-]*)*)\n\s*\]/g, (_, body: string) => `[${body.replace(/,\n\s*/g, ',')}]`);
}

export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 1) + '\n');
}

export function shortVersion(sha256: string): string {
  return sha256.slice(0, 8);
}
