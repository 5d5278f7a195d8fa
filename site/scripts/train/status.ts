/**
 * The training's figures (step, epoch, speed, time left, tensors alive, state)
 * and the status line's sentence. The figures change with every report and
 * are plain text; the sentence changes only when the state does, so it can
 * be a live region without chattering.
 */
import { formatBytes } from '../engine/progress.ts';
import { formatRate } from './backend-text.ts';
import type { TrainerState } from './protocol.ts';
import type { TrainElements } from './elements.ts';
import type { TrainState } from './state.ts';

/** "—", "12 s", "3 min 20 s", "1 h 5 min". */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export interface Stats {
  step: string;
  epoch: string;
  rate: string;
  eta: string;
  tensors: string;
  state: string;
}

export const STATE_WORDS: Record<TrainerState, string> = { idle: 'not started', training: 'training', paused: 'paused', done: 'done' };

export function trainStats(s: Pick<TrainState, 'trainer' | 'step' | 'last' | 'config'>): Stats {
  const r = s.last;
  const epochs = s.config?.epochs;
  const live = s.trainer === 'training';
  return {
    step: s.step.toLocaleString('en'),
    epoch: r ? `${(r.epoch + r.epochFraction).toFixed(2)}${epochs ? ` of ${epochs}` : ''}` : '—',
    rate: r && live ? formatRate(r.imagesPerSecond) : '—',
    eta: r && live ? formatEta(r.etaSeconds) : s.trainer === 'done' ? 'done' : '—',
    tensors: r ? `${r.tensors.toLocaleString('en')} (${formatBytes(r.bytes)})` : '—',
    state: STATE_WORDS[s.trainer],
  };
}

/**
 * The status line: what the trainer is doing, in a sentence; `where` names
 * the backend ("WebAssembly (CPU), 2 threads"), as every studio's line does.
 */
export function stateSentence(s: Pick<TrainState, 'trainer' | 'step' | 'config' | 'problem'>, where: string): string {
  const steps = `${s.step.toLocaleString('en')} step${s.step === 1 ? '' : 's'}`;
  if (s.problem && s.trainer !== 'training') return `Training stopped: ${s.problem.replace(/\.?$/, '.')}`;
  switch (s.trainer) {
    case 'idle':
      return `Ready to train on ${where}. Choose the settings and press Start.`;
    case 'training':
      return `Training on ${where}.`;
    case 'paused':
      return `Paused after ${steps}.`;
    case 'done': {
      const epochs = s.config ? `${s.config.epochs} epoch${s.config.epochs === 1 ? '' : 's'}, ` : '';
      return `Done: ${epochs}${steps}. Explore the model or download it.`;
    }
  }
}

/** A number of nats for the curves' readout: one decimal. */
export function formatNats(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(1);
}

/** Writes the figures and the latest losses (plain text: read when looked at, not announced). */
export function showFigures(el: TrainElements, s: TrainState): void {
  const stats = trainStats(s);
  el.statStep.textContent = stats.step;
  el.statEpoch.textContent = stats.epoch;
  el.statRate.textContent = stats.rate;
  el.statEta.textContent = stats.eta;
  el.statTensors.textContent = stats.tensors;
  el.statState.textContent = stats.state;
  const r = s.last;
  el.valueLoss.textContent = formatNats(r?.loss);
  el.valueReconstruction.textContent = formatNats(r?.reconstruction);
  el.valueKl.textContent = formatNats(r?.kl);
  el.valueBeta.textContent = betaText(r);
}

/** "One epoch is 9,000 images: about 40 s at the speed measured here." */
export function epochHint(train: number, imagesPerSecond: number | null): string {
  const time = imagesPerSecond && imagesPerSecond > 0 ? `: about ${formatEta(train / imagesPerSecond)} at the speed measured here` : '';
  return `One epoch is ${train.toLocaleString('en')} images${time}. The learning rate, the epochs and the warm-up are fixed once a run starts.`;
}

/** "1.0", or "0.43 → 1.0" while the warm-up raises the KL weight. */
export function betaText(r: { beta: number; klWeight: number } | null): string {
  if (!r) return '—';
  return r.klWeight < r.beta - 1e-6 ? `${r.klWeight.toFixed(2)} → ${r.beta.toFixed(1)}` : r.beta.toFixed(1);
}
