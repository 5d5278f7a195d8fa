import { afterEach, describe, expect, it, vi } from 'vitest';
import { clamp, keyStep, latentExtent, niceTicks, stepPoint, toLatent, toScreen, type Extent, type Viewport } from '../../site/scripts/digits/map-transform.ts';
import { MapView, sameOverlay } from '../../site/scripts/digits/map-view.ts';

const extent: Extent = { half: 4 };
const view: Viewport = { size: 400, inset: 0 };

describe('latent map geometry', () => {
  it('puts the origin in the middle and z2 upwards', () => {
    expect(toScreen(extent, view, 0, 0)).toEqual([200, 200]);
    expect(toScreen(extent, view, -4, 4)).toEqual([0, 0]);
    expect(toScreen(extent, view, 4, -4)).toEqual([400, 400]);
    expect(toScreen(extent, view, 2, 1)).toEqual([300, 150]);
  });

  it('respects an inset on every side', () => {
    const v: Viewport = { size: 420, inset: 10 };
    expect(toScreen(extent, v, -4, 4)).toEqual([10, 10]);
    expect(toScreen(extent, v, 4, -4)).toEqual([410, 410]);
    expect(toLatent(extent, v, 210, 210)).toEqual([0, 0]);
  });

  it('inverts toScreen', () => {
    for (const [a, b] of [[0.5, -1.25], [-3.9, 3.2], [1e-3, -2]] as const) {
      const [x, y] = toScreen(extent, view, a, b);
      const [z1, z2] = toLatent(extent, view, x, y);
      expect(z1).toBeCloseTo(a, 12);
      expect(z2).toBeCloseTo(b, 12);
    }
  });

  it('clamps a pointer outside the plot to its edge', () => {
    expect(toLatent(extent, view, -50, 900)).toEqual([-4, -4]);
    expect(toLatent(extent, view, 1e6, -1e6)).toEqual([4, 4]);
  });

  it('never divides by zero for a collapsed viewport', () => {
    const [z1, z2] = toLatent(extent, { size: 0, inset: 0 }, 0, 0);
    expect(Number.isFinite(z1) && Number.isFinite(z2)).toBe(true);
  });
});

describe('latentExtent', () => {
  it('shows at least ±3 of the prior, with a margin', () => {
    expect(latentExtent([0.1, -0.2, 0.3, 0.4]).half).toBeCloseTo(3 * 1.06, 12);
    expect(latentExtent([]).half).toBeCloseTo(3 * 1.06, 12);
  });

  it('widens for spread-out codes but ignores a few far outliers', () => {
    const z: number[] = [];
    for (let i = 0; i < 1000; i++) z.push(((i % 100) / 100) * 5, -((i % 100) / 100) * 5);
    z.push(400, -400);
    const { half } = latentExtent(z, { margin: 0 });
    expect(half).toBeGreaterThan(4.9);
    expect(half).toBeLessThan(5);
  });

  it('skips non-finite numbers', () => {
    expect(latentExtent([NaN, Infinity, 1], { minHalf: 0, margin: 0, quantile: 1 }).half).toBe(1);
  });
});

describe('niceTicks', () => {
  it('picks 1-2-5 steps', () => {
    expect(niceTicks(-3.2, 3.2, 7)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    expect(niceTicks(-4.3, 4.3, 5)).toEqual([-4, -2, 0, 2, 4]);
    expect(niceTicks(0, 1, 4)).toEqual([0, 0.5, 1]);
    expect(niceTicks(-0.3, 0.3, 6)).toEqual([-0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3]);
  });

  it('returns nothing for an empty range', () => {
    expect(niceTicks(1, 1)).toEqual([]);
    expect(niceTicks(2, 1)).toEqual([]);
  });
});

describe('keyboard steps', () => {
  it('moves by 1% of the width, 10% with Shift, and stays inside', () => {
    expect(keyStep(extent, false)).toBeCloseTo(0.08, 12);
    expect(keyStep(extent, true)).toBeCloseTo(0.8, 12);
    const up = stepPoint(extent, [0, 0], 'ArrowUp', false);
    expect(up[0]).toBe(0);
    expect(up[1]).toBeCloseTo(0.08, 12);
    expect(stepPoint(extent, [0, 0], 'ArrowLeft', true)[0]).toBeCloseTo(-0.8, 12);
    expect(stepPoint(extent, [3.9, -3.9], 'ArrowRight', true)).toEqual([4, -3.9]);
    expect(stepPoint(extent, [3.9, -3.9], 'ArrowDown', true)).toEqual([3.9, -4]);
  });

  it('clamp', () => {
    expect(clamp(5, 0, 1)).toBe(1);
    expect(clamp(-5, 0, 1)).toBe(0);
    expect(clamp(0.5, 0, 1)).toBe(0.5);
  });
});

describe('the map overlay', () => {
  /** A canvas whose 2D context accepts every call and counts the overlay's repaints (one clearRect each). */
  function fakeCanvas(): { canvas: HTMLCanvasElement; paints: () => number } {
    let paints = 0;
    const ctx = new Proxy({} as Record<string | symbol, unknown>, {
      get: (target, key) => (key in target ? target[key] : key === 'clearRect' ? () => paints++ : () => undefined),
      set: (target, key, value) => ((target[key] = value), true),
    });
    return { canvas: { width: 0, height: 0, getContext: () => ctx } as unknown as HTMLCanvasElement, paints: () => paints };
  }

  function mapView() {
    vi.stubGlobal('getComputedStyle', () => ({ getPropertyValue: () => '' }));
    vi.stubGlobal('window', { devicePixelRatio: 1 });
    const overlay = fakeCanvas();
    const host = { clientWidth: 400, getBoundingClientRect: () => ({ left: 0, top: 0, width: 400, height: 400 }) } as unknown as HTMLElement;
    const view = new MapView(host, fakeCanvas().canvas, overlay.canvas, { classes: ['0'], z: [0, 0], label: [0] }, { half: 4 });
    return { view, paints: overlay.paints };
  }

  afterEach(() => vi.unstubAllGlobals());

  it('repaints only when the pin or the cursor moves: a decoded result with the same state draws nothing', () => {
    const { view, paints } = mapView();
    view.drawOverlay({ pinned: [0, 0], cursor: null });
    expect(paints()).toBe(1);
    view.drawOverlay({ pinned: [0, 0], cursor: null });
    expect(paints()).toBe(1);
    view.drawOverlay({ pinned: [0, 0], cursor: [1, -1] });
    view.drawOverlay({ pinned: [0, 0], cursor: [1, -1] });
    expect(paints()).toBe(2);
    view.drawOverlay({ pinned: [0, 0], cursor: null });
    view.drawOverlay({ pinned: [0.5, 0], cursor: null });
    expect(paints()).toBe(4);
  });

  it('sees a point moved in place, and repaints after a resize (which clears the canvas)', () => {
    const { view, paints } = mapView();
    const pinned: [number, number] = [0, 0];
    view.drawOverlay({ pinned, cursor: null });
    pinned[0] = 1;
    view.drawOverlay({ pinned, cursor: null });
    expect(paints()).toBe(2);
    view.resize();
    expect(paints()).toBe(3);
  });

  it('compares states by value', () => {
    expect(sameOverlay({ pinned: [1, 2], cursor: null }, { pinned: [1, 2], cursor: null })).toBe(true);
    expect(sameOverlay({ pinned: [1, 2], cursor: [0, 0] }, { pinned: [1, 2], cursor: null })).toBe(false);
    expect(sameOverlay({ pinned: [1, 2], cursor: [0, 0] }, { pinned: [1, 2], cursor: [0, 1e-9] })).toBe(false);
  });
});
