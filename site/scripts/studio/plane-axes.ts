/**
 * The frame both latent maps draw under their points (the explorer's
 * digits/map-view.ts and the training page's train/map-plot.ts): grid lines
 * at round ticks, the axes through the origin, tick labels along the bottom
 * and left edges, and the prior's 1σ and 2σ circles, dashed.
 */
import { niceTicks, toScreen, type Extent, type Viewport } from '../digits/map-transform.ts';

/** A colour from the page's CSS (the --plot-* variables), or `fallback` where it has none. */
export function cssVar(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

/** "−2", "0", "1.5": a tick label with a true minus sign. */
export function formatTick(t: number): string {
  const s = Number.isInteger(t) ? String(t) : t.toFixed(1);
  return s.startsWith('-') ? `\u2212${s.slice(1)}` : s;
}

/** A vertical line through x and a horizontal one through y, across the whole map, on the pixel grid. */
export function crossLines(ctx: CanvasRenderingContext2D, x: number, y: number, size: number): void {
  ctx.beginPath();
  ctx.moveTo(Math.round(x) + 0.5, 0);
  ctx.lineTo(Math.round(x) + 0.5, size);
  ctx.moveTo(0, Math.round(y) + 0.5);
  ctx.lineTo(size, Math.round(y) + 0.5);
  ctx.stroke();
}

/** Where the origin and one latent unit fall on the canvas, for what a map draws over its frame. */
export interface PlaneFrame {
  cx: number;
  cy: number;
  /** Pixels per latent unit. */
  unit: number;
  /** The axes' colour, which the circles use too. */
  axis: string;
}

/** Draws the frame over `extent`, reading its colours from `host`'s CSS; leaves the line solid again. */
export function drawPlaneAxes(ctx: CanvasRenderingContext2D, host: Element, extent: Extent, view: Viewport): PlaneFrame {
  const { size } = view;
  const at = (z1: number, z2: number) => toScreen(extent, view, z1, z2);
  const grid = cssVar(host, '--plot-grid', 'rgba(0,0,0,0.07)');
  const axis = cssVar(host, '--plot-axis', 'rgba(0,0,0,0.3)');
  ctx.lineWidth = 1;
  ctx.font = `${size < 420 ? 10 : 11}px ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace`;
  ctx.fillStyle = cssVar(host, '--plot-label', '#666');
  for (const t of niceTicks(-extent.half, extent.half, size < 420 ? 5 : 8)) {
    const [x] = at(t, 0);
    const [, y] = at(0, t);
    ctx.strokeStyle = t === 0 ? axis : grid;
    crossLines(ctx, x, y, size);
    // Labels along the bottom and left edges, none crowding a corner.
    if (x > 22 && x < size - 30) {
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      ctx.fillText(formatTick(t), x, size - 4);
    }
    if (y > 24 && y < size - 22) {
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      ctx.fillText(formatTick(t), 5, y);
    }
  }
  const [cx, cy] = at(0, 0);
  const unit = at(1, 0)[0] - cx;
  ctx.strokeStyle = axis;
  ctx.setLineDash([4, 4]);
  for (const r of [1, 2]) {
    ctx.beginPath();
    ctx.arc(cx, cy, r * unit, 0, 2 * Math.PI);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  return { cx, cy, unit, axis };
}
