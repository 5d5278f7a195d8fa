/** What tests (and curious visitors) can read from the console: `window.__faces`. */
import type { MemoryInfo } from '../engine/engine-core.ts';
import { engineHook, extendHook, liveFields, settleFrames, type EngineHook } from '../studio/hook.ts';
import { morphFrames } from './morph.ts';
import type { MorphPath } from './morph-player.ts';
import { shareUrl } from './share.ts';
import type { SliderSetting } from './state.ts';
import { currentEntry, currentSliders, type FacesStudio } from './studio.ts';

/** tfjs memory where the decoder runs; on WebGL also bytes of live tensors on the GPU and textures allocated (in use or pooled). */
export type FacesMemory = MemoryInfo;

export interface FacesHook extends EngineHook {
  memory(): Promise<FacesMemory>;
  /** Resolves when no decode, mix request or morph frame is pending or running. */
  settled(): Promise<void>;
  /** `drawn`: the point as drawn, when the face has been settled since (else null). */
  face(): { base: number[]; drawn: number[] | null; sliders: SliderSetting[]; shown: number[]; link: string };
  attributeNames(): string[];
  readonly mixRequests: number;
  morph(): { t: number; playing: boolean; framesShown: number; framesSkipped: number; fps: number; a: number[]; b: number[]; path: MorphPath };
  /** Runs n frames of the morph loop back to back through the same decode-and-draw path as playing; resolves with the milliseconds taken. */
  morphFrames(n: number): Promise<number>;
  /** Where new faces come from: the bundle's learned prior, or N(0, T²I) when it has none (or it failed to load). */
  readonly sampler: 'learned prior' | 'N(0, I)';
  readonly temperature: number;
  /** Round trips each new face takes (0: shown as drawn), and whether the encoder is in so it can. */
  readonly settle: { trips: number; ready: boolean; problem: string | null };
}

declare global {
  interface Window {
    __faces?: FacesHook;
  }
}

export function facesHook(s: FacesStudio): FacesHook {
  const { shell, player } = s;
  return extendHook(extendHook(engineHook(shell), liveFields(s, ['temperature'])), {
    memory: async () => (shell.engine ? shell.engine.memory() : { numTensors: 0, numBytes: 0, numBytesInGPU: null, numBytesInGPUAllocated: null }),
    settled: () => settleFrames(() => !s.faceScheduler.idle || !(s.mix?.idle ?? true) || !player.idle || s.pendingWork > 0),
    face: () => ({ base: Array.from(s.base), drawn: currentEntry(s)?.drawn ? Array.from(currentEntry(s)!.drawn!) : null, sliders: currentSliders(s), shown: s.shown ? Array.from(s.shown.z) : [], link: shareUrl(s) }),
    attributeNames: () => [...s.order],
    get mixRequests() {
      return s.mix?.requestCount ?? 0;
    },
    morph: () => ({
      t: player.t,
      playing: player.isPlaying,
      framesShown: player.framesShown,
      framesSkipped: player.framesSkipped,
      fps: player.fps,
      a: s.endpoints.a ? Array.from(s.endpoints.a.z) : [],
      b: s.endpoints.b ? Array.from(s.endpoints.b.z) : [],
      path: s.path,
    }),
    morphFrames: (n: number) => morphFrames(s, n),
    get settle() {
      return { trips: s.settleTrips, ready: s.settleReady, problem: s.settleProblem };
    },
    get sampler(): FacesHook['sampler'] {
      return s.prior && shell.engine ? 'learned prior' : 'N(0, I)';
    },
  });
}
