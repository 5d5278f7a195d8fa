import { describe, expect, it } from 'vitest';
import { exportSizes, faceFileName, faceTag, videoFormat } from '../../site/scripts/faces/export.ts';
import { loopPositions, morphPoint, MorphPlayer, phaseAt, tAtPhase, type MorphClock } from '../../site/scripts/faces/morph-player.ts';

/** A clock and frame source the test advances by hand. */
function manualClock(frameMs = 16) {
  let now = 0;
  let queue: (() => void)[] = [];
  const clock: MorphClock = { now: () => now, schedule: (cb) => void queue.push(cb) };
  return {
    clock,
    get waiting() {
      return queue.length;
    },
    /** One display frame: time moves on, callbacks run, promise chains settle. */
    async frame() {
      now += frameMs;
      const q = queue;
      queue = [];
      for (const cb of q) cb();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    },
  };
}

describe('morph path', () => {
  const a = Float32Array.of(1.5, -0.25, 0.75, 2);
  const b = Float32Array.of(-0.5, 1.25, 0.125, -1);

  it('starts exactly at A and ends exactly at B, on both paths', () => {
    for (const path of ['slerp', 'lerp'] as const) {
      expect(Array.from(morphPoint(a, b, 0, path))).toEqual(Array.from(a));
      expect(Array.from(morphPoint(a, b, 1, path))).toEqual(Array.from(b));
    }
  });

  it('keeps the norm up on slerp where lerp sags', () => {
    const x = Float32Array.of(2, 0);
    const y = Float32Array.of(0, 2);
    const mid = (p: 'slerp' | 'lerp') => Math.hypot(...morphPoint(x, y, 0.5, p));
    expect(mid('slerp')).toBeCloseTo(2, 5);
    expect(mid('lerp')).toBeCloseTo(Math.SQRT2, 5);
  });

  it('eases there and back: A at phase 0, B at 1, A again at 2', () => {
    expect(tAtPhase(0)).toBe(0);
    expect(tAtPhase(1)).toBe(1);
    expect(tAtPhase(0.5)).toBeCloseTo(0.5, 12);
    expect(tAtPhase(1.5)).toBeCloseTo(0.5, 12);
    expect(tAtPhase(2)).toBe(0);
    expect(tAtPhase(0.25)).toBeCloseTo(tAtPhase(1.75), 12);
    for (const t of [0, 0.1, 0.5, 0.9, 1]) expect(tAtPhase(phaseAt(t))).toBeCloseTo(t, 12);
  });

  it('loops a recording without repeating its first frame', () => {
    const p = loopPositions(1000, 10);
    expect(p).toHaveLength(20);
    expect(p[0]).toBe(0);
    expect(p[10]).toBe(1);
    expect(p[19]).toBeGreaterThan(0);
  });
});

describe('MorphPlayer', () => {
  it('decodes at most one frame at a time and skips display frames instead of queueing', async () => {
    const frames = manualClock();
    const started: number[] = [];
    let running = 0;
    let maxRunning = 0;
    let release: (() => void) | null = null;
    const player = new MorphPlayer(
      (t) => {
        started.push(t);
        running++;
        maxRunning = Math.max(maxRunning, running);
        return new Promise<void>((r) => {
          release = () => {
            running--;
            r();
          };
        });
      },
      1000,
      frames.clock,
    );
    player.play();
    await frames.frame();
    expect(started).toHaveLength(1);
    // The GPU is slow: five display frames pass while the first decode runs.
    for (let i = 0; i < 5; i++) await frames.frame();
    expect(started).toHaveLength(1);
    expect(player.framesSkipped).toBe(5);
    release!();
    // Display frames went by during that decode: the next one starts as soon as it ends, without waiting for a frame,
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(started).toHaveLength(2);
    expect(maxRunning).toBe(1);
    // at the position the clock says now (6 frames in), not the ones it missed.
    expect(started[1]).toBeCloseTo(tAtPhase((16 * 6) / 1000), 9);
    expect(player.framesShown).toBe(1);
    // And still never two at once: frames during the second decode are skipped too.
    await frames.frame();
    expect(started).toHaveLength(2);
    expect(player.framesSkipped).toBe(6);
  });

  it('starts the next decode as soon as a slow one ends: decodes of 1.5 frames give 2/3 of the display rate, not 1/2', async () => {
    let now = 0;
    const timers: { at: number; cb: () => void }[] = [];
    const frameCallbacks: (() => void)[] = [];
    const clock: MorphClock = { now: () => now, schedule: (cb) => void frameCallbacks.push(cb) };
    const decodeMs = 24;
    const player = new MorphPlayer(() => new Promise<void>((r) => timers.push({ at: now + decodeMs, cb: r })), 1000, clock);
    player.play();
    // Simulated time in 1 ms steps: display frames every 16 ms, decodes finishing after 24 ms.
    for (let ms = 1; ms <= 960; ms++) {
      now = ms;
      for (const t of timers.filter((x) => x.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.cb();
      }
      for (let i = 0; i < 10; i++) await Promise.resolve();
      if (ms % 16 === 0) {
        const q = frameCallbacks.splice(0);
        for (const cb of q) cb();
        for (let i = 0; i < 10; i++) await Promise.resolve();
      }
    }
    // 960 ms / 24 ms = 40 decodes; one per two frames would be 30.
    expect(player.framesShown).toBeGreaterThanOrEqual(38);
    expect(player.fps).toBeGreaterThan(38);
  });

  it('runs at the display rate when decodes are fast, and keeps the speed set by the duration', async () => {
    const frames = manualClock(16);
    const seen: number[] = [];
    const player = new MorphPlayer(async (t) => void seen.push(t), 800, frames.clock);
    player.play();
    for (let i = 0; i < 50; i++) await frames.frame();
    expect(seen.length).toBeGreaterThanOrEqual(49);
    expect(player.fps).toBeCloseTo(1000 / 16, 0);
    // 50 frames of 16 ms is one leg (800 ms) out to B: t passed 1 at 800 ms and came back.
    expect(Math.max(...seen)).toBeGreaterThan(0.99);
    player.pause();
    await frames.frame();
    expect(frames.waiting).toBe(0);
    expect(player.idle).toBe(true);
  });

  it('shows only the newest of many seeks made while a frame decodes', async () => {
    const frames = manualClock();
    const seen: number[] = [];
    let release: (() => void) | null = null;
    const player = new MorphPlayer(
      (t) => {
        seen.push(t);
        return new Promise<void>((r) => (release = r));
      },
      1000,
      frames.clock,
    );
    player.seek(0.1);
    await frames.frame();
    for (const t of [0.2, 0.3, 0.4]) player.seek(t);
    await frames.frame();
    expect(seen).toEqual([0.1]);
    release!();
    await frames.frame();
    await frames.frame();
    expect(seen).toEqual([0.1, 0.4]);
    release!();
    await frames.frame();
    expect(player.idle).toBe(true);
  });

  it('plays on from where a seek left it', async () => {
    const frames = manualClock();
    const seen: number[] = [];
    const player = new MorphPlayer(async (t) => void seen.push(t), 1000, frames.clock);
    player.seek(0.5);
    await frames.frame();
    player.play();
    await frames.frame();
    expect(seen[1]).toBeGreaterThan(0.5);
    expect(seen[1]).toBeLessThan(0.6);
  });
});

describe('exports', () => {
  it('offers the decoder size and its doublings', () => {
    expect(exportSizes(64)).toEqual([64, 128, 256, 512, 1024]);
    expect(exportSizes(28, 256)).toEqual([28, 56, 112, 224]);
  });

  it('names files after the model and a tag of the face', () => {
    const face = { base: Float32Array.of(0.5, -1), sliders: [{ name: 'Smiling', value: 0.8 }] };
    expect(faceTag(face)).toMatch(/^[0-9a-f]{8}$/);
    expect(faceTag(face)).not.toBe(faceTag({ ...face, sliders: [] }));
    expect(faceFileName('faces', '46dc4391', face, 512)).toBe(`faces-46dc4391-${faceTag(face)}-512px.png`);
  });

  it('picks a video format the browser can record, or none', () => {
    expect(videoFormat({ canCapture: true, isTypeSupported: (t) => t === 'video/webm;codecs=vp8' })).toMatchObject({ extension: 'webm' });
    expect(videoFormat({ canCapture: true, isTypeSupported: (t) => t.startsWith('video/mp4') })).toMatchObject({ extension: 'mp4', label: 'MP4' });
    expect(videoFormat({ canCapture: false, isTypeSupported: () => true })).toBeNull();
    expect(videoFormat({ canCapture: true })).toBeNull();
  });
});
