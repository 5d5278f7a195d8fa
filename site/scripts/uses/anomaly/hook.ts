/** Read by the end-to-end tests (and curious visitors): `window.__anomaly`. */
import type { BackendName } from '../../engine/backend-choice.ts';
import { tf } from '../../engine/tf-runtime.ts';
import { extendHook, liveFields, pageHook, type PageHook } from '../../studio/hook.ts';
import { nextFrame } from '../../studio/page-kit.ts';
import type { AnomalyPage, AnomalyResult } from './page.ts';

export interface AnomalyHook extends PageHook {
  /** Milliseconds per scored image on each backend timed at start (empty when ?backend= forced one). */
  readonly measured: readonly { name: BackendName; ms: number }[];
  readonly threshold: number;
  /** How many images have been scored. */
  readonly runs: number;
  readonly last: AnomalyResult | null;
  /** Resolves when no scoring is pending or running. */
  settled(): Promise<void>;
  numTensors(): number;
}

declare global {
  interface Window {
    __anomaly?: AnomalyHook;
  }
}

export function anomalyHook(p: AnomalyPage): AnomalyHook {
  const fields = extendHook(pageHook(p.shell), liveFields(p, ['measured', 'threshold', 'runs', 'last']));
  return extendHook(fields, {
    settled: async () => {
      while (!p.scheduler.idle) await nextFrame();
    },
    numTensors: () => tf.memory().numTensors,
  });
}
