/** A one-line progress bar on stderr: bar, count, rate, ETA and any extra figures. */

export interface ProgressOptions {
  total: number;
  label?: string;
  unit?: string;
  /** Items already done before this bar started (resume); they do not count toward the rate. */
  start?: number;
  stream?: NodeJS.WriteStream;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class ProgressBar {
  private readonly total: number;
  private readonly label: string;
  private readonly unit: string;
  private readonly startCount: number;
  private readonly startTime = performance.now();
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  /** -Infinity: the first update always draws, so a log shows work has started. */
  private lastDraw = -Infinity;
  private done: number;

  constructor(opts: ProgressOptions) {
    this.total = Math.max(1, opts.total);
    this.label = opts.label ?? '';
    this.unit = opts.unit ?? 'it';
    this.startCount = opts.start ?? 0;
    this.done = this.startCount;
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  /** Items per second since this bar started. */
  rate(): number {
    const secs = (performance.now() - this.startTime) / 1000;
    return secs > 0 ? (this.done - this.startCount) / secs : 0;
  }

  update(done: number, extra = ''): void {
    this.done = done;
    const now = performance.now();
    // Redraw at most 10 times a second on a terminal; in logs, once every 10 s.
    const interval = this.tty ? 100 : 10_000;
    if (now - this.lastDraw < interval && done < this.total) return;
    this.lastDraw = now;
    this.draw(extra);
  }

  finish(extra = ''): void {
    this.done = Math.max(this.done, this.total);
    this.draw(extra);
    if (this.tty) this.stream.write('\n');
  }

  private draw(extra: string): void {
    const frac = Math.min(1, this.done / this.total);
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const rate = this.rate();
    const eta = rate > 0 ? (this.total - this.done) / rate : NaN;
    const line = `${this.label} ${bar} ${this.done}/${this.total} ${rate.toFixed(1)} ${this.unit}/s ETA ${formatDuration(eta)}${extra ? ' ' + extra : ''}`;
    this.stream.write(this.tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }
}
