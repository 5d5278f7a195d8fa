/** Pictures and encodings written beside a bundle: decoded grids, sample sheets, the latent map. */
import * as tf from '@tensorflow/tfjs';
import { quantileAxis } from '../lib/stats.ts';
import type { Split } from './data/types.ts';
import { encodePng } from './png.ts';

/** Encoder means of the given images, flat [n * latentDim]. */
export function encodeMeans(encoder: tf.LayersModel, split: Split, indices: ArrayLike<number>, batchSize = 500): Float32Array {
  const shape = encoder.inputs[0]!.shape.slice(1) as number[];
  const d = (encoder.outputs[0]!.shape[1] as number);
  const out = new Float32Array(indices.length * d);
  for (let s = 0; s < indices.length; s += batchSize) {
    const idx = Array.prototype.slice.call(indices, s, Math.min(s + batchSize, indices.length)) as number[];
    const means = tf.tidy(() => {
      const x = tf.tensor4d(split.read(idx), [idx.length, ...shape] as [number, number, number, number]);
      const [mean] = encoder.predict(x) as tf.Tensor[];
      return mean!.dataSync() as Float32Array;
    });
    out.set(means, s * d);
  }
  return out;
}

/** Decodes latent points [n, d] to bytes [n, h, w, c]. */
export function decodeToBytes(decoder: tf.LayersModel, z: Float32Array, d: number): { bytes: Uint8Array; h: number; w: number; c: number } {
  const n = z.length / d;
  const [h, w, c] = decoder.outputs[0]!.shape.slice(1) as [number, number, number];
  const bytes = tf.tidy(() => {
    const img = decoder.predict(tf.tensor2d(z, [n, d])) as tf.Tensor;
    return tf.cast(tf.round(tf.mul(tf.clipByValue(img, 0, 1), 255)), 'int32').dataSync();
  });
  return { bytes: Uint8Array.from(bytes), h, w, c };
}

/** Tiles n images of h x w x c into a rows x cols sheet with a gap, as RGB. */
export function tile(images: Uint8Array, n: number, h: number, w: number, c: number, cols: number, gap = 2, background = 255): { png: Uint8Array; width: number; height: number } {
  const rows = Math.ceil(n / cols);
  const W = cols * w + (cols + 1) * gap;
  const H = rows * h + (rows + 1) * gap;
  const out = new Uint8Array(W * H * 3).fill(background);
  for (let k = 0; k < n; k++) {
    const r = Math.floor(k / cols);
    const q = k % cols;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = ((k * h + y) * w + x) * c;
        const dst = ((gap + r * (h + gap) + y) * W + gap + q * (w + gap) + x) * 3;
        for (let ch = 0; ch < 3; ch++) out[dst + ch] = images[src + (c === 1 ? 0 : ch)]!;
      }
    }
  }
  return { png: encodePng(W, H, 3, out), width: W, height: H };
}

/** The FIDLE figure: an n x n sheet decoded over the 2-D latent plane at the prior's quantiles. */
export function latentGridPng(decoder: tf.LayersModel, n = 16): Uint8Array {
  const axis = quantileAxis(n);
  const z = new Float32Array(n * n * 2);
  for (let r = 0; r < n; r++) {
    for (let q = 0; q < n; q++) {
      z[(r * n + q) * 2] = axis[q]!;
      z[(r * n + q) * 2 + 1] = axis[n - 1 - r]!; // y grows upward, as on the map
    }
  }
  const { bytes, h, w, c } = decodeToBytes(decoder, z, 2);
  return tile(bytes.map((v) => 255 - v), n * n, h, w, c, n, 0).png;
}

/** Random faces (or digits) from the prior at a temperature (FIDLE samples at 0.7). */
export function sampleSheetPng(decoder: tf.LayersModel, latentDim: number, n = 64, temperature = 0.7, seed = 7): Uint8Array {
  const z = tf.tidy(() => tf.mul(tf.randomNormal([n, latentDim], 0, 1, 'float32', seed), temperature).dataSync() as Float32Array);
  const { bytes, h, w, c } = decodeToBytes(decoder, z, latentDim);
  return tile(bytes, n, h, w, c, Math.ceil(Math.sqrt(n))).png;
}

/** Ten distinguishable colours (Tableau 10), for class-coloured maps. */
export const CLASS_COLORS: [number, number, number][] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

/** A scatter plot of 2-D codes coloured by label, on a square canvas spanning ±extent. */
export function latentScatterPng(z: ArrayLike<number>, labels: ArrayLike<number>, size = 640, extent = 4): Uint8Array {
  const px = new Uint8Array(size * size * 3).fill(255);
  const n = labels.length;
  const toPix = (v: number) => Math.round(((v + extent) / (2 * extent)) * (size - 1));
  // Axes through the origin, light grey.
  const o = toPix(0);
  for (let i = 0; i < size; i++) {
    for (const [x, y] of [[i, o], [o, i]] as const) px.fill(220, (y * size + x) * 3, (y * size + x) * 3 + 3);
  }
  for (let i = 0; i < n; i++) {
    const cx = toPix(z[2 * i]!);
    const cy = size - 1 - toPix(z[2 * i + 1]!);
    const col = CLASS_COLORS[labels[i]! % CLASS_COLORS.length]!;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        if (x < 0 || y < 0 || x >= size || y >= size) continue;
        const p = (y * size + x) * 3;
        px[p] = col[0];
        px[p + 1] = col[1];
        px[p + 2] = col[2];
      }
    }
  }
  return encodePng(size, size, 3, px);
}
