/**
 * The verdict: what the model was given and what it made of it, the score
 * against the threshold, where the score falls among MNIST test digits, and
 * the marker on the histogram the build drew.
 */
import { isAnomalous, shareBelow } from '../../../../lib/anomaly.ts';
import type { UsesMetrics } from '../../../../lib/uses.ts';
import { logScale } from '../plot.ts';
import type { VaeRun } from '../vae-runner.ts';
import type { AnomalyPage, ScoreJob } from './page.ts';

/** The verdict line for a score. */
export function verdictFor(score: number, threshold: number): { state: 'anomalous' | 'normal'; text: string } {
  return isAnomalous(score, threshold)
    ? { state: 'anomalous', text: 'Unusual: not like the digits it was trained on' }
    : { state: 'normal', text: 'Looks like a handwritten digit' };
}

/** Where a score falls among the MNIST test digits the build scored ('' when the histogram cannot say). */
export function rankText(score: number, histogram: UsesMetrics['anomaly']['histogram']): string {
  const below = shareBelow(score, histogram.edges, histogram.mnist);
  if (!Number.isFinite(below)) return '';
  return below >= 0.995 ? 'Higher than practically every MNIST test digit.' : `Higher than about ${Math.max(0, Math.round(below * 100))}% of MNIST test digits.`;
}

/** The histogram's axis as the build wrote it on the SVG (data-x0, -x1: scores; data-r0, -r1: pixels). */
export interface HistogramAxis {
  x0: number;
  x1: number;
  r0: number;
  r1: number;
}

/** The marker's x in pixels (a score off the axis sits at its end) and its label (an arrow when off to the right). */
export function markerAt(score: number, axis: HistogramAxis): { x: string; label: string } {
  const sx = logScale([axis.x0, axis.x1], [axis.r0, axis.r1]);
  const clamped = Math.min(Math.max(score, axis.x0), axis.x1);
  return { x: sx(clamped).toFixed(1), label: score > axis.x1 ? `you: ${Math.round(score)} →` : `you: ${Math.round(score)}` };
}

function paintGrey(canvas: HTMLCanvasElement, values: Float32Array): void {
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(canvas.width, canvas.height);
  for (let i = 0; i < values.length; i++) {
    const g = Math.round(Math.min(1, Math.max(0, values[i]!)) * 255);
    img.data[4 * i] = g;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = g;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function placeMarker(p: AnomalyPage, score: number): void {
  const { marker, markerLabel, histogram } = p.el;
  if (!marker || !histogram) return;
  const d = histogram.dataset;
  const at = markerAt(score, { x0: Number(d.x0), x1: Number(d.x1), r0: Number(d.r0), r1: Number(d.r1) });
  marker.setAttribute('transform', `translate(${at.x} 0)`);
  marker.setAttribute('visibility', 'visible');
  if (markerLabel) markerLabel.textContent = at.label;
}

/** No score on show: the verdict line says why, the figures are dashes and the marker hides. */
function clearResult(p: AnomalyPage, state: 'idle' | 'unjudged', message: string): void {
  const { el } = p;
  for (const c of [el.seen, el.rebuilt]) c.getContext('2d')!.clearRect(0, 0, c.width, c.height);
  el.verdict.dataset.state = state;
  el.verdict.textContent = message;
  for (const out of [el.score, el.scoreRec, el.scoreKl]) out.textContent = '—';
  el.scoreRank.textContent = '';
  el.marker?.setAttribute('visibility', 'hidden');
  p.last = null;
}

export function resetResult(p: AnomalyPage): void {
  clearResult(p, 'idle', 'Draw a digit or pick an example.');
}

/** A drawing with too little to go on: what the model was given, and why there is no verdict. */
function showUnjudged(p: AnomalyPage, input: Float32Array, message: string): void {
  clearResult(p, 'unjudged', message);
  paintGrey(p.el.seen, input);
}

function showRun(p: AnomalyPage, run: VaeRun, job: ScoreJob): void {
  const { el } = p;
  paintGrey(el.seen, run.input);
  paintGrey(el.rebuilt, run.reconstructed);
  const verdict = verdictFor(run.score, p.threshold);
  el.verdict.dataset.state = verdict.state;
  el.verdict.textContent = verdict.text;
  el.score.textContent = run.score.toFixed(1);
  el.scoreRec.textContent = run.reconstruction.toFixed(1);
  el.scoreKl.textContent = run.kl.toFixed(2);
  if (p.uses) el.scoreRank.textContent = rankText(run.score, p.uses.anomaly.histogram);
  placeMarker(p, run.score);
  p.last = { score: run.score, reconstruction: run.reconstruction, kl: run.kl, anomalous: verdict.state === 'anomalous', source: job.source, example: job.example };
}

/** Scores one job and shows the verdict (or why there is none). */
export async function score(p: AnomalyPage, job: ScoreJob): Promise<void> {
  if (!p.runner) return;
  if (job.unjudged) {
    showUnjudged(p, job.input, job.unjudged);
    return;
  }
  const run = await p.runner.run(job.input);
  p.runs++;
  showRun(p, run, job);
}
