/**
 * What happened to training while the tab was hidden, measured rather than
 * assumed: browsers may keep a hidden tab's worker running, slow it down, or
 * freeze the page outright. The step is noted when the tab is hidden; the
 * reports that still arrive meanwhile show whether training went on, and on
 * return the page says so.
 */
import type { TrainerState } from './protocol.ts';

export interface AwayVisit {
  hiddenAt: number;
  shownAt: number;
  stateAtHide: TrainerState;
  stepAtHide: number;
  /** The highest step reported while hidden (stepAtHide when nothing came). */
  stepSeen: number;
  /** The browser fired `freeze` on the page meanwhile. */
  frozen: boolean;
  /** Steps per second in the last report before hiding (0 when unknown). */
  rateAtHide: number;
}

/** Shorter absences are not worth a sentence. */
export const MIN_AWAY_MS = 1500;

function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  return `${Math.round(s / 60)} min`;
}

function perSecond(steps: number): string {
  return `${steps >= 10 ? steps.toFixed(0) : steps.toFixed(1)} steps/s`;
}

/** The sentence for the visitor, or null when nothing was training or the tab was hidden only briefly. */
export function awayVerdict(v: AwayVisit): string | null {
  const ms = v.shownAt - v.hiddenAt;
  if (v.stateAtHide !== 'training' || ms < MIN_AWAY_MS) return null;
  const steps = v.stepSeen - v.stepAtHide;
  if (steps > 0) {
    const rate = steps / (ms / 1000);
    const pace = v.rateAtHide > 0 && rate < 0.7 * v.rateAtHide ? `slowed to ${perSecond(rate)} from ${perSecond(v.rateAtHide)}` : `${perSecond(rate)}`;
    return `Training went on while this tab was hidden: ${steps.toLocaleString('en')} steps in ${duration(ms)}, ${pace}.`;
  }
  const how = v.frozen ? 'froze this page' : 'held training back';
  return `While this tab was hidden (${duration(ms)}) the browser ${how}: no steps were reported, from step ${v.stepAtHide.toLocaleString('en')} on.`;
}

export class AwayWatch {
  private visit: Omit<AwayVisit, 'shownAt'> | null = null;
  /** The last verdict given (for the test hook). */
  last: string | null = null;

  /** `rate`: steps per second before hiding (0 when unknown). */
  hidden(time: number, state: TrainerState, step: number, rate = 0): void {
    this.visit = { hiddenAt: time, stateAtHide: state, stepAtHide: step, stepSeen: step, frozen: false, rateAtHide: rate };
  }

  /** A progress report arrived; counted only while the tab is hidden. */
  reported(step: number): void {
    if (this.visit) this.visit.stepSeen = Math.max(this.visit.stepSeen, step);
  }

  frozen(): void {
    if (this.visit) this.visit.frozen = true;
  }

  /** The tab is back: the verdict on the absence (null when there is nothing to say). */
  shown(time: number): string | null {
    if (!this.visit) return null;
    const verdict = awayVerdict({ ...this.visit, shownAt: time });
    this.visit = null;
    if (verdict) this.last = verdict;
    return verdict;
  }
}

/**
 * Listens for the tab being hidden and shown (and frozen). `now` gives the
 * trainer's state, step and steps per second; `onShown` gets the verdict (or null).
 */
export function bindVisibility(watch: AwayWatch, now: () => { state: TrainerState; step: number; rate: number }, onShown: (verdict: string | null) => void): void {
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      const { state, step, rate } = now();
      watch.hidden(performance.now(), state, step, rate);
    } else {
      onShown(watch.shown(performance.now()));
    }
  });
  document.addEventListener('freeze', () => watch.frozen());
}
