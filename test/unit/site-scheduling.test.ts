import { describe, expect, it } from 'vitest';
import { LatestOnly } from '../../site/scripts/engine/latest-only.ts';

/** A hand-cranked animation frame: callbacks run only when the test says so. */
function manualFrames() {
  let queue: (() => void)[] = [];
  return {
    schedule: (cb: () => void) => void queue.push(cb),
    get waiting() {
      return queue.length;
    },
    async tick() {
      const now = queue;
      queue = [];
      for (const cb of now) cb();
      // Let the task's promise chain settle.
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
  };
}

describe('LatestOnly (one decode per frame, no queue)', () => {
  it('runs only the newest of many requests made within a frame', async () => {
    const frames = manualFrames();
    const seen: number[] = [];
    const q = new LatestOnly<number>(async (v) => void seen.push(v), frames.schedule);
    const done = [1, 2, 3, 4, 5].map((v) => q.request(v));
    expect(frames.waiting).toBe(1);
    await frames.tick();
    await Promise.all(done);
    expect(seen).toEqual([5]);
    expect(q.idle).toBe(true);
  });

  it('never runs two tasks at once and keeps only the latest request made during a task', async () => {
    const frames = manualFrames();
    const seen: number[] = [];
    let running = 0;
    let maxRunning = 0;
    let release!: () => void;
    const q = new LatestOnly<number>(async (v) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      seen.push(v);
      if (v === 1) await new Promise<void>((r) => (release = r));
      running--;
    }, frames.schedule);

    void q.request(1);
    await frames.tick();
    expect(seen).toEqual([1]);
    for (let v = 2; v <= 50; v++) void q.request(v);
    expect(frames.waiting).toBe(0); // nothing is scheduled while a task runs
    release();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(frames.waiting).toBe(1);
    await frames.tick();
    expect(seen).toEqual([1, 50]);
    expect(maxRunning).toBe(1);
  });

  it('resolves superseded requests once their replacement is done', async () => {
    const frames = manualFrames();
    const q = new LatestOnly<string>(async () => {}, frames.schedule);
    let firstDone = false;
    void q.request('a').then(() => (firstDone = true));
    void q.request('b');
    expect(firstDone).toBe(false);
    await frames.tick();
    expect(firstDone).toBe(true);
  });

  it('keeps going after a task throws, and counts the failure', async () => {
    const frames = manualFrames();
    const errors: unknown[] = [];
    const seen: number[] = [];
    const q = new LatestOnly<number>(
      async (v) => {
        if (v === 1) throw new Error('boom');
        seen.push(v);
      },
      frames.schedule,
      (e) => errors.push(e),
    );
    await Promise.all([q.request(1), frames.tick()]);
    expect(errors).toHaveLength(1);
    expect(q.errors).toBe(1);
    const p = q.request(2);
    await frames.tick();
    await p;
    expect(seen).toEqual([2]);
  });

  it('lets lower-priority work wait until nothing runs or waits (the sheet behind the pointer)', async () => {
    const frames = manualFrames();
    const order: string[] = [];
    let finish!: () => void;
    const q = new LatestOnly<string>(
      (v) =>
        new Promise<void>((resolve) => {
          order.push(`start ${v}`);
          finish = () => {
            order.push(`end ${v}`);
            resolve();
          };
        }),
      frames.schedule,
    );
    await q.whenIdle();
    order.push('idle at first');
    void q.request('a');
    expect(q.waiting).toBe(true);
    void q.whenIdle().then(() => order.push('sheet row'));
    await frames.tick();
    expect(q.waiting).toBe(false);
    // A newer point arrives while 'a' decodes: the sheet waits for it too.
    void q.request('b');
    finish();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(order).toEqual(['idle at first', 'start a', 'end a']);
    await frames.tick();
    expect(order).toEqual(['idle at first', 'start a', 'end a', 'start b']);
    finish();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(order).toEqual(['idle at first', 'start a', 'end a', 'start b', 'end b', 'sheet row']);
    expect(q.idle).toBe(true);
  });
});
