/**
 * Start, Pause/Resume, Reset and the settings: read into a TrainConfig at
 * Start, enabled only where they make sense for the trainer's state (state.ts's
 * controlStates), and β passed on to a run in progress as the slider moves.
 */
import { BATCH_SIZE, controlStates, type TrainPage } from './state.ts';
import type { TrainConfig } from './protocol.ts';
import type { TrainElements } from './elements.ts';

export interface ControlActions {
  start(config: TrainConfig): void;
  pause(): void;
  resume(): void;
  reset(): void;
  setBeta(beta: number): void;
}

/** A fresh seed per run: two Starts train two different models. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]! % 2 ** 31;
}

export function formatBeta(beta: number): string {
  return beta.toFixed(1);
}

export function readConfig(el: TrainElements): TrainConfig {
  return {
    beta: Number(el.beta.value),
    learningRate: Number(el.lr.value),
    epochs: Number(el.epochs.value),
    warmupEpochs: el.warmup.checked ? 1 : 0,
    batchSize: BATCH_SIZE,
    seed: randomSeed(),
  };
}

/** Sets what is enabled; focus on a control that just switched off moves to the one that now acts. */
export function applyControls(p: TrainPage): void {
  const { el } = p;
  const c = controlStates(p);
  const focused = document.activeElement;
  el.start.disabled = !c.start;
  el.start.textContent = c.startLabel;
  // While pausing the button waits (aria-disabled, clicks ignored) but stays focusable: it becomes Resume in a moment.
  el.pause.disabled = !c.pause && !p.pausing;
  el.pause.setAttribute('aria-disabled', String(p.pausing));
  el.pause.textContent = c.pauseLabel;
  el.pause.setAttribute('aria-pressed', String(p.trainer === 'paused'));
  el.reset.disabled = !c.reset;
  el.lr.disabled = el.epochs.disabled = el.warmup.disabled = !c.settings;
  el.beta.disabled = !c.beta;
  el.explore.disabled = el.download.disabled = !c.export;
  if (focused instanceof HTMLButtonElement && focused.disabled) {
    [el.pause, el.start].find((b) => !b.disabled)?.focus();
  }
}

export function bindControls(p: TrainPage, actions: ControlActions): void {
  const { el } = p;
  el.start.addEventListener('click', () => actions.start(readConfig(el)));
  el.pause.addEventListener('click', () => {
    if (p.pausing) return;
    if (p.trainer === 'paused') actions.resume();
    else actions.pause();
  });
  el.reset.addEventListener('click', () => actions.reset());
  el.beta.addEventListener('input', () => {
    const beta = Number(el.beta.value);
    el.betaOut.value = formatBeta(beta);
    if (p.trainer === 'training' || p.trainer === 'paused') actions.setBeta(beta);
  });
  el.betaOut.value = formatBeta(Number(el.beta.value));
}

/** Shows a run's settings in the form (a run started from the test hook keeps the page honest). */
export function showConfig(el: TrainElements, config: TrainConfig): void {
  el.warmup.checked = config.warmupEpochs > 0;
  el.beta.value = String(config.beta);
  el.betaOut.value = formatBeta(config.beta);
  const pick = (select: HTMLSelectElement, value: number) => {
    const option = [...select.options].find((o) => Number(o.value) === value);
    if (option) select.value = option.value;
  };
  pick(el.lr, config.learningRate);
  pick(el.epochs, config.epochs);
}
