/** Messages between a studio page and its decode worker (decode-worker.ts, remote-decoder.ts). */
import type { io } from '@tensorflow/tfjs-core';
import type { ImageShape } from '../../../lib/bundle.ts';
import type { LatentPrior } from '../../../lib/prior.ts';
import type { SettleStep } from '../../../lib/settle.ts';
import type { BackendName, BackendRequest } from './backend-choice.ts';
import type { EngineOutcome, MemoryInfo } from './engine-core.ts';

export type ToWorker =
  | { type: 'start'; request: BackendRequest; artifacts: io.ModelArtifacts; latentDim: number; image: ImageShape; blocked: { name: BackendName; reason: string }[] }
  | { type: 'decode'; id: number; points: Float32Array }
  | { type: 'memory'; id: number }
  | { type: 'prior'; prior: LatentPrior }
  | { type: 'sample'; id: number; count: number; temperature: number; seed: number }
  /** The encoder, for settling (settler.ts); sent after the first face, so it never delays it. */
  | { type: 'encoder'; artifacts: io.ModelArtifacts }
  | { type: 'settle'; id: number; points: Float32Array; trips: number; step?: SettleStep };

export type FromWorker =
  | { type: 'started'; outcome: EngineOutcome }
  | { type: 'start-failed'; message: string }
  /** `ms`: the decode itself, timed in the worker (not the wait behind earlier decodes, nor the messages). */
  | { type: 'decoded'; id: number; values: Float32Array; ms: number }
  | { type: 'memory'; id: number; memory: MemoryInfo }
  | { type: 'sampled'; id: number; points: Float32Array }
  | { type: 'settled'; id: number; points: Float32Array }
  | { type: 'failed'; id: number; message: string };
