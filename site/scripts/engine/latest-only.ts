/**
 * One decode per animation frame, and never a queue: a pointer can report a
 * hundred moves while one decode runs, but only the newest point matters, so
 * each request replaces the one waiting. At most one task runs at a time; the
 * next starts on the frame after it ends.
 */

export type FrameScheduler = (callback: () => void) => unknown;

export class LatestOnly<T> {
  private pending: { value: T; waiters: (() => void)[] } | null = null;
  private idleWaiters: (() => void)[] = [];
  private busy = false;
  private scheduled = false;
  private failures = 0;

  constructor(
    private readonly task: (value: T) => Promise<void>,
    private readonly schedule: FrameScheduler = (cb) => requestAnimationFrame(cb),
    private readonly onError: (error: unknown) => void = (e) => console.error(e),
  ) {}

  /** Asks for `value` to be processed; resolves once it, or a newer value that replaced it, has been. */
  request(value: T): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.pending ? this.pending.waiters : [];
      waiters.push(resolve);
      this.pending = { value, waiters };
      this.kick();
    });
  }

  /** True while a task runs or a request waits for its frame. */
  get idle(): boolean {
    return !this.busy && !this.scheduled && this.pending === null;
  }

  /** True while a request waits for its turn (a newer one will follow what runs now). */
  get waiting(): boolean {
    return this.pending !== null;
  }

  /**
   * Resolves once nothing runs or waits here (at once if so already). Work
   * of lower priority sharing the same resource waits on this between its
   * pieces, so these tasks go first.
   */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** How many tasks threw so far. */
  get errors(): number {
    return this.failures;
  }

  private kick(): void {
    if (this.busy || this.scheduled || !this.pending) return;
    this.scheduled = true;
    this.schedule(() => void this.runFrame());
  }

  private settle(): void {
    if (!this.idle) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const done of waiters) done();
  }

  private async runFrame(): Promise<void> {
    this.scheduled = false;
    const job = this.pending;
    if (!job) {
      this.settle();
      return;
    }
    this.pending = null;
    this.busy = true;
    try {
      await this.task(job.value);
    } catch (e) {
      this.failures++;
      this.onError(e);
    } finally {
      this.busy = false;
      for (const done of job.waiters) done();
      this.kick();
      this.settle();
    }
  }
}
