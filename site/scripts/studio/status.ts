/**
 * The status line under a studio: what runs the decoder, and once it runs the
 * live time per image. `data-state` colours its dot (loading, ready, fallback, error).
 */

export type StatusState = 'loading' | 'ready' | 'fallback' | 'error';

export interface StatusElements {
  /** Carries data-state. */
  status: HTMLElement;
  /** Holds the words: the status element itself where it has no inner span. */
  text: HTMLElement;
}

/** The line's words; a state only where the page's status line shows one. */
export function setStatus(el: StatusElements, text: string, state?: StatusState): void {
  el.text.textContent = text;
  if (state) el.status.dataset.state = state;
}

/** "Decoding on WebGL (GPU). 3.2 ms per face.": the engine's sentence and the live mean, once there is one. */
export function liveStatusText(engineText: string, meanMs: number, perWhat: string): string {
  return `${engineText} ${Number.isFinite(meanMs) ? `${meanMs.toFixed(1)} ms per ${perWhat}.` : ''}`.trim();
}

/** Lets an update through at most every `intervalMs` (a dragged slider decodes at 60 Hz; the line need not). */
export class Throttle {
  private last = 0;

  constructor(private readonly intervalMs = 500) {}

  /** True when enough time has passed since the last update let through (always when forced); that update is then counted. */
  pass(now: number, force = false): boolean {
    if (!force && now - this.last < this.intervalMs) return false;
    this.last = now;
    return true;
  }
}
