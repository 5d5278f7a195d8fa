/**
 * Settling sampled points where the decoder runs (the decode worker, or the
 * page): the encoder is built from its artifacts on the backend the decoder
 * chose, the first time a settle is asked for, and the round trips are
 * lib/settle.ts's, the same ones `npm run sample -- --settle N` runs in Node.
 * Every tensor made for a round trip is freed before it resolves.
 */
import type { io } from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { settle, type SettleStep } from '../../../lib/settle.ts';
import type { LatentDecoder } from './decoder.ts';
import { tf } from './tf-runtime.ts';

export class Settler {
  private artifacts: io.ModelArtifacts | null = null;
  private encoder: Promise<LayersModel> | null = null;

  constructor(private readonly decoder: () => LatentDecoder | null) {}

  /** Keeps the encoder's artifacts; it is built on first use. */
  setEncoder(artifacts: io.ModelArtifacts): void {
    this.artifacts = artifacts;
    this.encoder = null;
  }

  get ready(): boolean {
    return this.artifacts !== null;
  }

  private build(): Promise<LayersModel> {
    if (!this.artifacts) return Promise.reject(new Error('the encoder has not loaded, so faces cannot be settled'));
    const artifacts = this.artifacts;
    this.encoder ??= loadLayersModel({ load: async () => artifacts }).catch((e: unknown) => {
      this.encoder = null;
      throw new Error(`the encoder could not be built (${(e as Error).message})`);
    });
    return this.encoder;
  }

  /** `trips` round trips from `points` (flat, n × latentDim), each moving them by `step` (absent: z ← E(D(z))). */
  async settle(points: Float32Array, trips: number, step?: SettleStep): Promise<Float32Array> {
    const decoder = this.decoder();
    if (!decoder) throw new Error('the decoder has not started');
    const encoder = await this.build();
    const { height, width, channels } = decoder.image;
    return settle(points, trips, {
      decode: (z) => decoder.decode(z),
      encode: async (images) => {
        const n = images.length / (height * width * channels);
        const mean = tf.tidy(() => {
          const out = encoder.predict(tf.tensor4d(images, [n, height, width, channels]));
          return (Array.isArray(out) ? out[0]! : out) as tf.Tensor;
        });
        try {
          return (await mean.data()) as Float32Array;
        } finally {
          mean.dispose();
        }
      },
    }, { step });
  }
}
