/**
 * Draws the latent map: a static layer with the axes, the prior's 1σ/2σ
 * circles and the encoded test digits, and an overlay with the pin and the
 * cursor that is redrawn when either moves (cheap: a few strokes).
 */
import type { LatentMap } from '../../../lib/bundle.ts';
import { cssVar, crossLines, drawPlaneAxes } from '../studio/plane-axes.ts';
import { toLatent, toScreen, type Extent, type Viewport } from './map-transform.ts';
import { classColor } from './plane-data.ts';

export interface OverlayState {
  pinned: readonly [number, number];
  /** The point under the pointer or keyboard, when it differs from the pin. */
  cursor: readonly [number, number] | null;
}

export class MapView {
  private view: Viewport = { size: 1, inset: 0 };
  private highlighted: number | null = null;
  private lastOverlay: OverlayState | null = null;

  constructor(
    private readonly host: HTMLElement,
    private readonly pointsCanvas: HTMLCanvasElement,
    private readonly overlayCanvas: HTMLCanvasElement,
    private readonly data: LatentMap,
    readonly extent: Extent,
  ) {}

  /** Matches the canvases to the element's size and the screen's pixel density, then redraws. */
  resize(): void {
    const size = Math.max(1, Math.round(this.host.clientWidth));
    const dpr = Math.min(3, window.devicePixelRatio || 1);
    for (const c of [this.pointsCanvas, this.overlayCanvas]) {
      c.width = Math.round(size * dpr);
      c.height = Math.round(size * dpr);
      c.getContext('2d')!.setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    this.view = { size, inset: 0 };
    this.drawPoints();
    if (this.lastOverlay) this.paintOverlay(this.lastOverlay);
  }

  /** Latent point under a pointer event's client coordinates. */
  latentAt(clientX: number, clientY: number): [number, number] {
    const r = this.host.getBoundingClientRect();
    const scale = r.width > 0 ? this.view.size / r.width : 1;
    return toLatent(this.extent, this.view, (clientX - r.left) * scale, (clientY - r.top) * scale);
  }

  /** Client coordinates of a latent point (for tests and for scrolling a point into view). */
  clientAt(z1: number, z2: number): [number, number] {
    const r = this.host.getBoundingClientRect();
    const [x, y] = toScreen(this.extent, this.view, z1, z2);
    const scale = this.view.size > 0 ? r.width / this.view.size : 1;
    return [r.left + x * scale, r.top + y * scale];
  }

  highlight(label: number | null): void {
    this.highlighted = label;
    this.drawPoints();
  }

  drawPoints(): void {
    const ctx = this.pointsCanvas.getContext('2d')!;
    const { size } = this.view;
    const at = (z1: number, z2: number) => toScreen(this.extent, this.view, z1, z2);
    ctx.clearRect(0, 0, size, size);
    ctx.fillStyle = cssVar(this.host, '--plot-bg', '#fbfaf7');
    ctx.fillRect(0, 0, size, size);

    drawPlaneAxes(ctx, this.host, this.extent, this.view);

    const radius = Math.max(1.1, Math.min(2.4, size / 320));
    const { z, label: labels } = this.data;
    const draw = (i: number) => {
      const [x, y] = at(z[2 * i]!, z[2 * i + 1]!);
      if (x < -radius || y < -radius || x > size + radius || y > size + radius) return;
      ctx.beginPath();
      ctx.arc(x, y, radius, 0, 2 * Math.PI);
      ctx.fill();
    };
    const byClass = new Map<number, number[]>();
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i]!;
      let list = byClass.get(l);
      if (!list) byClass.set(l, (list = []));
      list.push(i);
    }
    const dimmed = this.highlighted !== null;
    for (const [l, list] of byClass) {
      if (l === this.highlighted) continue;
      ctx.globalAlpha = dimmed ? 0.12 : 0.72;
      ctx.fillStyle = classColor(l);
      for (const i of list) draw(i);
    }
    if (dimmed) {
      ctx.globalAlpha = 0.9;
      ctx.fillStyle = classColor(this.highlighted!);
      for (const i of byClass.get(this.highlighted!) ?? []) draw(i);
    }
    ctx.globalAlpha = 1;
  }

  /**
   * Draws the pin and the cursor. A state already on screen is not drawn
   * again: every decoded result asks, and each draw on this (GPU-backed)
   * canvas ends its task with a wait for the GPU, which under software GL
   * cost more than the decode.
   */
  drawOverlay(state: OverlayState): void {
    if (this.lastOverlay && sameOverlay(this.lastOverlay, state)) return;
    this.paintOverlay(state);
  }

  private paintOverlay(state: OverlayState): void {
    // A copy: a caller that moves a point in place must not make it look drawn already.
    this.lastOverlay = { pinned: [state.pinned[0], state.pinned[1]], cursor: state.cursor && [state.cursor[0], state.cursor[1]] };
    const ctx = this.overlayCanvas.getContext('2d')!;
    const { size } = this.view;
    ctx.clearRect(0, 0, size, size);
    const ink = cssVar(this.host, '--plot-cursor', '#111');
    const halo = cssVar(this.host, '--plot-bg', '#fff');

    if (state.cursor) {
      const [x, y] = toScreen(this.extent, this.view, state.cursor[0], state.cursor[1]);
      ctx.strokeStyle = ink;
      ctx.globalAlpha = 0.35;
      ctx.lineWidth = 1;
      crossLines(ctx, x, y, size);
      ctx.globalAlpha = 1;
      ring(ctx, x, y, 5, ink, halo);
    }
    const [px, py] = toScreen(this.extent, this.view, state.pinned[0], state.pinned[1]);
    ctx.lineWidth = 2;
    ring(ctx, px, py, 8, ink, halo);
    ctx.fillStyle = ink;
    ctx.beginPath();
    ctx.arc(px, py, 2, 0, 2 * Math.PI);
    ctx.fill();
  }
}

function samePoint(a: readonly [number, number] | null, b: readonly [number, number] | null): boolean {
  return a === null || b === null ? a === b : a[0] === b[0] && a[1] === b[1];
}

/** True when two overlay states draw the same picture. */
export function sameOverlay(a: OverlayState, b: OverlayState): boolean {
  return samePoint(a.pinned, b.pinned) && samePoint(a.cursor, b.cursor);
}

function ring(ctx: CanvasRenderingContext2D, x: number, y: number, r: number, ink: string, halo: string): void {
  ctx.lineWidth = 4;
  ctx.strokeStyle = halo;
  ctx.beginPath();
  ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.lineWidth = 1.75;
  ctx.strokeStyle = ink;
  ctx.stroke();
}
