/**
 * Latent points in, pixels out. Every tensor made for a decode is freed before
 * the decode resolves: the graph runs inside tidy(), and the one tensor that
 * escapes it is disposed once its values are read back.
 */
import type { ImageShape } from '../../../lib/bundle.ts';
import type { io } from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { tf } from './tf-runtime.ts';
import { toRgba } from './rgba.ts';

/** Larger batches are split, so a big grid never asks the GPU for one huge texture. */
const MAX_BATCH = 128;

/** What the studios decode with: the in-page Decoder below, or its stand-in for a worker (remote-decoder.ts). */
export interface LatentDecoder {
  readonly latentDim: number;
  readonly image: ImageShape;
  readonly pixelsPerImage: number;
  /** Decodes n points (flat, n * latentDim numbers) into n images, flat, channels last, values in [0, 1]. */
  decode(points: Float32Array): Promise<Float32Array>;
  /**
   * Decodes one point straight into ImageData-sized RGBA bytes; resolves with
   * the milliseconds the decode itself took where it ran. In a worker that is
   * less than the wait for the result, which includes decodes queued ahead.
   */
  decodeRgba(point: Float32Array, out: Uint8ClampedArray): Promise<number>;
}

export class Decoder implements LatentDecoder {
  constructor(
    private readonly model: LayersModel,
    readonly latentDim: number,
    readonly image: ImageShape,
  ) {
    const [, dim] = model.inputs[0]?.shape ?? [];
    if (dim !== null && dim !== undefined && dim !== latentDim) {
      throw new Error(`the decoder takes ${dim} latent numbers but the manifest says ${latentDim}`);
    }
  }

  get pixelsPerImage(): number {
    return this.image.height * this.image.width * this.image.channels;
  }

  /** Decodes n points (flat, n * latentDim numbers) into n images, flat, channels last, values in [0, 1]. */
  async decode(points: Float32Array): Promise<Float32Array> {
    const n = points.length / this.latentDim;
    if (!Number.isInteger(n) || n < 1) throw new Error(`cannot decode ${points.length} numbers as ${this.latentDim}-D points`);
    if (n <= MAX_BATCH) return this.decodeBatch(points, n);
    const out = new Float32Array(n * this.pixelsPerImage);
    for (let start = 0; start < n; start += MAX_BATCH) {
      const m = Math.min(MAX_BATCH, n - start);
      const part = await this.decodeBatch(points.subarray(start * this.latentDim, (start + m) * this.latentDim), m);
      out.set(part, start * this.pixelsPerImage);
    }
    return out;
  }

  private async decodeBatch(points: Float32Array, n: number): Promise<Float32Array> {
    const images = tf.tidy(() => this.model.predict(tf.tensor2d(points, [n, this.latentDim])) as tf.Tensor);
    try {
      return (await images.data()) as Float32Array;
    } finally {
      images.dispose();
    }
  }

  /** Decodes one point straight into ImageData-sized RGBA bytes. */
  async decodeRgba(point: Float32Array, out: Uint8ClampedArray): Promise<number> {
    const t0 = performance.now();
    const values = await this.decode(point);
    const ms = performance.now() - t0;
    toRgba(values, this.image.channels as 1 | 3, out);
    return ms;
  }

  /** Frees the model's weights; the decoder is unusable afterwards. */
  dispose(): void {
    this.model.dispose();
  }
}

/** Builds the decoder on the current backend from artifacts fetched by bundle-loader.ts. */
export async function createDecoder(artifacts: io.ModelArtifacts, latentDim: number, image: ImageShape): Promise<Decoder> {
  let model: LayersModel;
  try {
    model = await loadLayersModel({ load: async () => artifacts });
  } catch (e) {
    throw new Error(`the decoder could not be built (${(e as Error).message})`);
  }
  return new Decoder(model, latentDim, image);
}
