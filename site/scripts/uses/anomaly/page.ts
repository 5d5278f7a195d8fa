/**
 * The anomaly page as one typed object: the strokes on the pad, the last
 * verdict, what the build measured, and the parts that do the work. The
 * pad, verdict, examples and runner modules each take this object.
 */
import type { AnomalyExamplesFile, UsesMetrics } from '../../../../lib/uses.ts';
import type { BackendName } from '../../engine/backend-choice.ts';
import type { LatestOnly } from '../../engine/latest-only.ts';
import type { StudioBase } from '../../studio/shell.ts';
import type { Stroke } from '../mnist-preprocess.ts';
import type { VaeRunner } from '../vae-runner.ts';
import type { AnomalyElements } from './elements.ts';

/** An image to score. `unjudged`: why a drawing is not scored (too small, too little ink); it goes through the queue so an older score cannot overwrite it. */
export interface ScoreJob {
  input: Float32Array;
  source: 'drawing' | 'example';
  example: number | null;
  unjudged?: string;
}

/** The verdict on show. */
export interface AnomalyResult {
  score: number;
  reconstruction: number;
  kl: number;
  anomalous: boolean;
  source: 'drawing' | 'example';
  example: number | null;
}

export interface AnomalyState {
  /** The score above which an image is unusual: the build's, until the manifest served now says otherwise. */
  threshold: number;
  uses: UsesMetrics | null;
  examples: AnomalyExamplesFile | null;
  measured: readonly { name: BackendName; ms: number }[];
  /** Images scored so far. */
  runs: number;
  last: AnomalyResult | null;
  /** The drawing as vectors, in pad pixels. */
  strokes: Stroke[];
  /** The stroke being drawn, while the pen is down. */
  drawing: Stroke | null;
}

export interface AnomalyPage extends AnomalyState, StudioBase<AnomalyElements> {
  runner: VaeRunner | null;
  /** Scores the newest image asked for, one per frame. */
  readonly scheduler: LatestOnly<ScoreJob>;
}

export function newAnomalyState(threshold: number): AnomalyState {
  return { threshold, uses: null, examples: null, measured: [], runs: 0, last: null, strokes: [], drawing: null };
}
