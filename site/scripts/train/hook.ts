/** What tests (and curious visitors) can read from the console: `window.__trainer`. */
import { extendHook, liveFields, pageHook, type PageHook } from '../studio/hook.ts';
import type { ControlActions } from './controls.ts';
import type { TrainConfig, TrainerBackendReport, TrainerState } from './protocol.ts';
import type { TrainPage } from './state.ts';

export interface TrainHook extends PageHook {
  /** The trainer's state as the page shows it: Start and Reset take effect on the page at once. */
  readonly trainer: TrainerState;
  /** Pause or Reset was pressed and the worker has not confirmed it yet. */
  readonly pausing: boolean;
  readonly resetting: boolean;
  readonly step: number;
  /** The newest progress report's figures, or null before the first. */
  readonly last: { step: number; loss: number; reconstruction: number; kl: number; beta: number; imagesPerSecond: number; tensors: number } | null;
  readonly reports: number;
  readonly mapCount: number;
  readonly gridCount: number;
  /** Points in the newest map (0 before the first). */
  readonly mapPoints: number;
  readonly mapStep: number | null;
  /** The newest map's first `n` points as [z1, z2, z1, z2, ...]. */
  mapFirst(n?: number): number[];
  /** Sum of the newest map's coordinates weighted by position: changes when any point moves. */
  mapChecksum(): number;
  /** Tensors alive in the worker after its last step (from the reports). */
  readonly tensors: number | null;
  /** tf.memory() in the worker now. */
  memory(): Promise<{ tensors: number; bytes: number }>;
  readonly backendReport: TrainerBackendReport | null;
  /** How many training and test digits the worker holds (null before it is ready). */
  readonly data: { train: number; test: number } | null;
  /** What the page said on returning to the tab, if it said anything. */
  readonly away: string | null;
  /** Animation frames that drew something. */
  readonly framesPainted: number;
  /** Starts a fresh run with the page's settings, overridden by `config`. */
  start(config?: Partial<TrainConfig>): void;
  pause(): void;
  resume(): void;
  reset(): void;
  setBeta(beta: number): void;
  /** The bundle's files and their sizes, as the download would pack them. */
  exportFiles(): Promise<{ path: string; bytes: number }[]>;
}

declare global {
  interface Window {
    __trainer?: TrainHook;
  }
}

export function mapChecksum(z: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < z.length; i++) sum += z[i]! * (1 + (i % 7));
  return sum;
}

export function trainHook(p: TrainPage, actions: ControlActions, settings: () => TrainConfig): TrainHook {
  return extendHook(extendHook(pageHook(p.shell), liveFields(p, ['step', 'reports', 'mapCount', 'gridCount', 'pausing', 'resetting'])), {
    get trainer() {
      return p.trainer;
    },
    get last() {
      const r = p.last;
      return r && { step: r.step, loss: r.loss, reconstruction: r.reconstruction, kl: r.kl, beta: r.beta, imagesPerSecond: r.imagesPerSecond, tensors: r.tensors };
    },
    get mapPoints() {
      return p.map ? p.map.z.length / 2 : 0;
    },
    get mapStep() {
      return p.map?.step ?? null;
    },
    mapFirst: (n = 5) => Array.from(p.map?.z.subarray(0, 2 * n) ?? []),
    mapChecksum: () => (p.map ? mapChecksum(p.map.z) : 0),
    get tensors() {
      return p.last?.tensors ?? null;
    },
    memory: () => (p.client ? p.client.memory() : Promise.reject(new Error('the trainer is not running'))),
    get backendReport() {
      return p.backend;
    },
    get data() {
      return p.data && { train: p.data.train, test: p.data.test };
    },
    get away() {
      return p.away.last;
    },
    get framesPainted() {
      return p.painter.frames;
    },
    start: (config: Partial<TrainConfig> = {}) => actions.start({ ...settings(), ...config }),
    pause: () => actions.pause(),
    resume: () => actions.resume(),
    reset: () => actions.reset(),
    setBeta: (beta: number) => actions.setBeta(beta),
    exportFiles: async () => {
      if (!p.client) throw new Error('the trainer is not running');
      return (await p.client.exportFiles()).map((f) => ({ path: f.path, bytes: f.bytes.byteLength }));
    },
  });
}
