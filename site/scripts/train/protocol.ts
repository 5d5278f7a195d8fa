/**
 * Messages between the training page and its worker (train-worker.ts). The
 * worker owns tfjs, the model, the optimiser and the data; the page draws
 * what it reports. Typed arrays in messages are transferred, never shared.
 */
import type { BackendName } from '../engine/backend-choice.ts';

/** What the visitor sets before pressing Start (beta may change while training). */
export interface TrainConfig {
  beta: number;
  learningRate: number;
  batchSize: number;
  /** Passes over the training subset; training stops by itself after the last. */
  epochs: number;
  /** Epochs over which the KL weight rises from 0 to beta (lib/vae-step.ts warmedBeta); 0: none. */
  warmupEpochs: number;
  seed: number;
}

/** How the worker chose its backend, for the page to show. */
export interface TrainerBackendReport {
  used: BackendName;
  /** WebAssembly threads in use (1 where the page is not cross-origin isolated or on webgl/cpu). */
  threads: number;
  /** Whether the page was cross-origin isolated (needed for wasm threads). */
  isolated: boolean;
  /** Training speed measured per candidate backend on this device, images per second. */
  measured: { name: BackendName; imagesPerSecond: number }[];
  /** Backends that could not start here, with the reason. */
  failed: { name: BackendName; reason: string }[];
  /** Backends not timed, with the reason (WebGL on a software renderer: it trains about 50x slower than WebAssembly, and timing it would take a minute). */
  skipped: { name: BackendName; reason: string }[];
  /** The WebGL renderer string where webgl was tried (null elsewhere). */
  renderer: string | null;
}

export type TrainerState = 'idle' | 'training' | 'paused' | 'done';

export type ToTrainer =
  /** The dataset file's bytes (transferred) and the backend request from the address (?backend=). */
  | { type: 'init'; data: ArrayBuffer; backend: { forced: BackendName | null; problem: string | null }; gridSize: number }
  /** A fresh model and optimiser with these settings, then training. */
  | { type: 'start'; config: TrainConfig }
  | { type: 'pause' }
  | { type: 'resume' }
  /** Stops and disposes the model; back to idle (weights gone). */
  | { type: 'reset' }
  | { type: 'set-beta'; beta: number }
  /** The trained model as bundle files (manifest.json, decoder/..., latent-map.json). */
  | { type: 'export'; id: number }
  | { type: 'memory'; id: number };

export interface StepReport {
  type: 'progress';
  /** Optimiser steps done since Start. */
  step: number;
  /** Whole epochs done, and the fraction of the current one. */
  epoch: number;
  epochFraction: number;
  /** Mean over the steps since the last report: loss = reconstruction + beta * KL, per image. */
  loss: number;
  reconstruction: number;
  kl: number;
  /** The KL weight as set; during a warm-up the step uses `klWeight`, which rises to it. */
  beta: number;
  klWeight: number;
  /** Training images per second over the last few seconds of stepping (not counting pauses). */
  imagesPerSecond: number;
  /** Seconds left to the last epoch at that rate. */
  etaSeconds: number;
  /** tf.memory() after the step: tensors alive and bytes held. */
  tensors: number;
  bytes: number;
}

export type FromTrainer =
  | { type: 'ready'; backend: TrainerBackendReport; data: { train: number; test: number; testLabels: Uint8Array } }
  | { type: 'init-failed'; message: string }
  | StepReport
  /** The test images' latent means, [test][2] flattened, after `step` steps. */
  | { type: 'map'; step: number; z: Float32Array }
  /** Decoded digits on a size x size grid over [-extent, extent]^2, row-major from top-left (z2 falls down the rows); size*size*28*28 values in [0, 1]. */
  | { type: 'grid'; step: number; size: number; extent: number; pixels: Float32Array }
  | { type: 'state'; state: TrainerState; step: number }
  | { type: 'exported'; id: number; files: { path: string; bytes: ArrayBuffer }[] }
  | { type: 'memory'; id: number; tensors: number; bytes: number }
  /** Training stopped with this problem (a loss that is not finite, a lost WebGL context); the state follows. */
  | { type: 'failed'; message: string };
