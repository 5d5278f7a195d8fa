/**
 * Morphing between two faces: the path (slerp or lerp), the easing of the
 * back-and-forth animation, and the player that turns the clock into decodes.
 * The player decodes at most one frame at a time and never queues: on a frame
 * where the previous decode is still running it skips, and the next decode
 * takes the position the clock says then. When a display frame went by during
 * a decode, the next decode starts the moment that one ends instead of waiting
 * for another frame (the decoder works in a worker, so this costs the page
 * nothing): a decode of 1.1 frames gives ~55 fps rather than half the display
 * rate. So the animation keeps its speed on a slow GPU (fewer, further-apart
 * frames) and runs at the display's rate on a fast one.
 */
import { lerp, slerp } from '../../../lib/interp.ts';

export type MorphPath = 'slerp' | 'lerp';

export function morphPoint(a: ArrayLike<number>, b: ArrayLike<number>, t: number, path: MorphPath): Float32Array {
  return path === 'slerp' ? slerp(a, b, t) : lerp(a, b, t);
}

/**
 * Position between A (0) and B (1) at a phase of the loop: phase 0→1 goes
 * from A to B, 1→2 back; eased with a half cosine so each end lingers a little.
 */
export function tAtPhase(phase: number): number {
  const p = ((phase % 2) + 2) % 2;
  const leg = p <= 1 ? p : 2 - p;
  return (1 - Math.cos(Math.PI * leg)) / 2;
}

/** The phase in [0, 1] (the A→B leg) at which the loop passes position t. */
export function phaseAt(t: number): number {
  const c = Math.max(0, Math.min(1, t));
  return Math.acos(1 - 2 * c) / Math.PI;
}

/** Positions of a recorded loop at `fps`: A→B→A over 2 × legMs, without repeating the first frame at the end. */
export function loopPositions(legMs: number, fps: number): number[] {
  const frames = Math.max(2, Math.round((2 * legMs * fps) / 1000));
  return Array.from({ length: frames }, (_, i) => tAtPhase((2 * i) / frames));
}

export interface MorphClock {
  now(): number;
  schedule(callback: () => void): unknown;
}

export const browserClock: MorphClock = {
  now: () => performance.now(),
  schedule: (cb) => requestAnimationFrame(() => cb()),
};

export class MorphPlayer {
  private playing = false;
  private busy = false;
  private frameScheduled = false;
  private pendingSeek: number | null = null;
  private phaseOrigin = 0;
  private position = 0;
  private shown = 0;
  private skipped = 0;
  /** A display frame passed while the current decode ran. */
  private missedFrame = false;
  private stamps: number[] = [];

  constructor(
    private readonly render: (t: number) => Promise<void>,
    private durationMs = 3000,
    private readonly clock: MorphClock = browserClock,
    private readonly onError: (e: unknown) => void = (e) => console.error(e),
  ) {}

  /** The position last rendered or asked for. */
  get t(): number {
    return this.position;
  }

  get isPlaying(): boolean {
    return this.playing;
  }

  /** Frames decoded and shown so far. */
  get framesShown(): number {
    return this.shown;
  }

  /** Display frames passed over while a decode was still running. */
  get framesSkipped(): number {
    return this.skipped;
  }

  /** No frame pending, running or playing. */
  get idle(): boolean {
    return !this.playing && !this.busy && !this.frameScheduled && this.pendingSeek === null;
  }

  /** Shown frames per second over the last second or so of playing (NaN before two frames). */
  get fps(): number {
    const s = this.stamps;
    if (s.length < 2) return NaN;
    return ((s.length - 1) * 1000) / (s[s.length - 1]! - s[0]!);
  }

  get duration(): number {
    return this.durationMs;
  }

  /** One leg (A to B) takes this long; the position is kept. */
  setDuration(ms: number): void {
    if (this.playing) {
      const phase = (this.clock.now() - this.phaseOrigin) / this.durationMs;
      this.phaseOrigin = this.clock.now() - phase * ms;
    }
    this.durationMs = ms;
  }

  /** Plays from the current position towards B (or back from B when at it). */
  play(): void {
    if (this.playing) return;
    this.playing = true;
    this.pendingSeek = null;
    this.stamps = [];
    this.phaseOrigin = this.clock.now() - phaseAt(this.position) * this.durationMs;
    this.kick();
  }

  pause(): void {
    this.playing = false;
  }

  /** Shows position t (and pauses): while a decode runs only the newest t waits. */
  seek(t: number): void {
    this.playing = false;
    this.position = Math.max(0, Math.min(1, t));
    this.pendingSeek = this.position;
    this.kick();
  }

  /** Renders the current position again (the endpoints or the path changed); playing continues. */
  refresh(): void {
    if (this.playing) return;
    this.pendingSeek = this.position;
    this.kick();
  }

  private kick(): void {
    if (this.frameScheduled) return;
    this.frameScheduled = true;
    this.clock.schedule(() => this.frame());
  }

  private frame(): void {
    this.frameScheduled = false;
    if (this.busy) {
      if (this.playing) {
        this.skipped++;
        this.missedFrame = true;
        this.kick();
      }
      return;
    }
    let t: number | null = null;
    if (this.playing) {
      t = tAtPhase((this.clock.now() - this.phaseOrigin) / this.durationMs);
    } else if (this.pendingSeek !== null) {
      t = this.pendingSeek;
      this.pendingSeek = null;
    }
    if (t !== null) this.start(t);
    if (this.playing) this.kick();
  }

  private start(t: number): void {
    this.position = t;
    this.busy = true;
    this.missedFrame = false;
    this.render(t)
      .then(() => {
        this.shown++;
        this.stamps.push(this.clock.now());
        while (this.stamps.length > 2 && this.stamps[this.stamps.length - 1]! - this.stamps[0]! > 1000) this.stamps.shift();
      })
      .catch((e: unknown) => {
        this.playing = false;
        this.onError(e);
      })
      .finally(() => {
        this.busy = false;
        if (this.playing && this.missedFrame) {
          // The display has moved on since this decode began: start the next one now.
          this.start(tAtPhase((this.clock.now() - this.phaseOrigin) / this.durationMs));
        } else if (!this.playing && this.pendingSeek !== null) this.kick();
      });
  }
}
