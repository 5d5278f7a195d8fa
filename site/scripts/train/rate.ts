/** Training speed over a sliding window of recent steps, with time spent paused left out. */
export class RateWindow {
  private samples: { t: number; images: number }[] = [];

  constructor(private readonly windowMs = 5000) {}

  /** Forgets the history (after a pause, so the pause is not counted as slow training). */
  restart(t: number, images: number): void {
    this.samples = [{ t, images }];
  }

  add(t: number, images: number): void {
    this.samples.push({ t, images });
    while (this.samples.length > 2 && t - this.samples[1]!.t > this.windowMs) this.samples.shift();
  }

  /** Images per second across the window, 0 until two samples exist. */
  get perSecond(): number {
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    if (!a || !b || b.t <= a.t) return 0;
    return ((b.images - a.images) * 1000) / (b.t - a.t);
  }
}
