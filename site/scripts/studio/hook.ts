/**
 * The test hooks the pages put on `window` (`__atelier`, `__faces`,
 * `__anomaly`): what every page says about starting, what every studio that
 * decodes says about its engine, and the helpers that add a page's own
 * fields and wait for it to settle.
 */
import type { BackendName } from '../engine/backend-choice.ts';
import { engineFacts } from '../engine/remote-decoder.ts';
import { nextFrame } from './page-kit.ts';
import type { StudioShell } from './shell.ts';

export interface PageHook {
  /** Resolves once the model is warm and the page usable (a studio: its first picture shown); rejects if the page could not start. */
  ready: Promise<void>;
  readonly backend: BackendName | null;
}

export function pageHook(shell: StudioShell): PageHook {
  return {
    ready: shell.ready.promise,
    get backend() {
      return shell.backend;
    },
  };
}

export interface EngineHook extends PageHook {
  /** Where decodes run: in a worker, or on the page's thread when no worker could start. */
  readonly where: 'worker' | 'page' | null;
  /** Milliseconds per decode of each backend timed at start-up (empty when ?backend= forced one). */
  readonly measured: { name: BackendName; ms: number }[];
  readonly decodeCount: number;
  readonly warmupMs: number;
  /** Mean milliseconds per single-image decode after the warm-up, over the last 100. */
  meanDecodeMs(): number;
}

export function engineHook(shell: StudioShell): EngineHook {
  return extendHook(pageHook(shell), {
    get where() {
      return engineFacts(shell.engine).where;
    },
    get measured() {
      return engineFacts(shell.engine).measured;
    },
    get decodeCount() {
      return shell.timings.count;
    },
    get warmupMs() {
      return shell.warmupMs;
    },
    meanDecodeMs: () => shell.timings.mean(),
  });
}

/** `base` with `extra`'s properties added, getters kept as getters (a spread would read them once). */
export function extendHook<B extends object, E extends object>(base: B, extra: E): B & E {
  return Object.defineProperties(base, Object.getOwnPropertyDescriptors(extra)) as B & E;
}

/** Getters that read `keys` from `source` when asked: a hook shows the page's state as it is then, not as it was when made. */
export function liveFields<S extends object, K extends keyof S>(source: S, keys: readonly K[]): { readonly [P in K]: S[P] } {
  const fields = {};
  for (const key of keys) Object.defineProperty(fields, key, { get: () => source[key], enumerable: true });
  return fields as { readonly [P in K]: S[P] };
}

/**
 * Resolves once `busy()` is false after two frames: observers (a lazy grid)
 * report during rendering, after animation-frame callbacks. `between` is
 * awaited on each round (work that is not a scheduler of its own).
 */
export async function settleFrames(busy: () => boolean, between?: () => Promise<unknown>): Promise<void> {
  do {
    await nextFrame();
    await nextFrame();
    if (between) await between();
  } while (busy());
}
