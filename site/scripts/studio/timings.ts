/** How long decodes take where they run: a count, and the mean over the most recent ones. */

export class DecodeTimings {
  private readonly recent: number[] = [];
  private total = 0;

  constructor(readonly window = 100) {}

  /** Decodes recorded since the page started (the warm-up excluded: the engine does that before it is handed over). */
  get count(): number {
    return this.total;
  }

  /** One decode's own milliseconds (not its wait in a queue). */
  record(ms: number): void {
    this.total++;
    this.recent.push(ms);
    if (this.recent.length > this.window) this.recent.shift();
  }

  /** Mean milliseconds over the last `window` decodes; NaN before the first. */
  mean(): number {
    return this.recent.length ? this.recent.reduce((a, b) => a + b, 0) / this.recent.length : NaN;
  }
}
