/** What tests (and curious visitors) can read from the console: `window.__atelier`. */
import { engineHook, extendHook, liveFields, settleFrames, type EngineHook } from '../studio/hook.ts';
import { show } from './point.ts';
import { displayPoint } from './share-state.ts';
import type { DigitsStudio, Point, SheetEvent } from './studio.ts';

export interface AtelierHook extends EngineHook {
  readonly gridCount: number;
  readonly pinned: Point;
  readonly shown: Point;
  /** Live tensors where the decoder runs. */
  numTensors(): Promise<number>;
  /** Decodes and shows a point now, bypassing the frame scheduler (rounded to float16 like any shown point). */
  decode(z1: number, z2: number): Promise<void>;
  /** Resolves when no decode is pending or running, the grid included. */
  settled(): Promise<void>;
  /** Client coordinates of a latent point on the map. */
  clientAt(z1: number, z2: number): Point;
  /**
   * The map's requests and what the decoder finished, in order (the last
   * 300): a point asked for, a point shown, a row of the sheet drawn, the
   * sheet complete. `seq` counts from the start.
   */
  readonly events: readonly SheetEvent[];
}

declare global {
  interface Window {
    __atelier?: AtelierHook;
  }
}

export function digitsHook(s: DigitsStudio): AtelierHook {
  return extendHook(extendHook(engineHook(s.shell), liveFields(s, ['gridCount'])), {
    get pinned() {
      return [...s.pinned] as Point;
    },
    get shown() {
      return [...s.shown] as Point;
    },
    numTensors: async () => (s.shell.engine ? (await s.shell.engine.memory()).numTensors : 0),
    decode: (z1: number, z2: number) => show(s, displayPoint(z1, z2)),
    settled: () => settleFrames(() => !s.scheduler.idle || !s.gridScheduler.idle, () => s.gridWork),
    clientAt: (z1: number, z2: number): Point => (s.view ? s.view.clientAt(z1, z2) : [NaN, NaN]),
    get events() {
      return s.events.list();
    },
  });
}
