/**
 * lib/settle.ts's round trips on Node's tfjs models (npm run sample, npm run
 * prior, bench/prior-ceiling.ts): decode and encode in blocks, the encoder's
 * mean taken from its first output.
 */
import * as tf from '@tensorflow/tfjs';
import { settle, type SettleStep } from '../lib/settle.ts';

const BLOCK = 200;

function inBlocks(model: tf.LayersModel, input: Float32Array, inShape: number[], outSize: number): Float32Array {
  const inSize = inShape.reduce((a, b) => a * b, 1);
  const n = input.length / inSize;
  const out = new Float32Array(n * outSize);
  for (let s = 0; s < n; s += BLOCK) {
    const m = Math.min(BLOCK, n - s);
    tf.tidy(() => {
      const y = model.predict(tf.tensor(input.subarray(s * inSize, (s + m) * inSize), [m, ...inShape]));
      out.set((Array.isArray(y) ? y[0]! : y).dataSync() as Float32Array, s * outSize);
    });
  }
  return out;
}

/** `trips` round trips of the points (flat, n × d) through a bundle's networks, each moving them by `step` (absent: z ← E(D(z))). */
export function settleWith(encoder: tf.LayersModel, decoder: tf.LayersModel, points: Float32Array, trips: number, d: number, step?: SettleStep): Promise<Float32Array> {
  const shape = (decoder.outputs[0]!.shape as number[]).slice(1);
  const pixels = shape.reduce((a, b) => a * b, 1);
  return settle(points, trips, {
    decode: (z) => inBlocks(decoder, z, [d], pixels),
    encode: (images) => inBlocks(encoder, images, shape, d),
  }, { step });
}
