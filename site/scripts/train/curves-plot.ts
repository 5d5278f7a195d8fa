/**
 * The loss curves against the optimiser step: the loss and its
 * reconstruction term share the upper panel (they are of one size), the KL
 * term has the lower one to itself (it is tens of times smaller). Each
 * report's mean is drawn faintly under a moving average. The first steps'
 * huge losses are left above the panel, so the curve that matters fills it;
 * a change of β mid-run is marked where it happened.
 */
import { linearScale, niceTicks, tickLabel, type Scale } from '../uses/plot.ts';
import type { CurvePoint } from './state.ts';

type Key = 'loss' | 'reconstruction' | 'kl';

interface Panel {
  keys: Key[];
  title: string;
  top: number;
  height: number;
}

/** Where each curve's colour comes from: custom properties the page sets on the plot. */
export const CURVE_COLOR_VARS: Record<Key, string> = { loss: '--curve-loss', reconstruction: '--curve-rec', kl: '--curve-kl' };

/**
 * A y range for `keys` of `points`: from 0 (all three terms are ≥ 0) or just
 * under the lowest value, to just over the highest value seen after the first
 * `skip` share of the steps; the start of training is allowed off the top.
 */
export function curveRange(points: readonly CurvePoint[], keys: readonly Key[], skip = 0.15): [number, number] {
  const last = points.length ? points[points.length - 1]!.step : 0;
  let later = points.filter((p) => p.step >= skip * last);
  if (later.length < 3) later = [...points];
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of later) {
    for (const k of keys) {
      const v = p[k];
      if (!Number.isFinite(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (!(hi >= lo)) return [0, 1];
  const pad = Math.max((hi - lo) * 0.1, Math.abs(hi) * 0.02, 1e-3);
  return [Math.max(0, lo - pad), hi + pad];
}

/**
 * An exponential moving average over steps (not over reports, which come
 * at uneven step gaps): each point pulls the average with weight
 * 1 − e^(−Δstep/τ). Values that are not finite pass through and restart it.
 */
export function smoothed(points: readonly CurvePoint[], key: Key, tau: number): number[] {
  const out: number[] = [];
  let avg = NaN;
  let prev = 0;
  for (const p of points) {
    const v = p[key];
    if (!Number.isFinite(v)) {
      out.push(v);
      avg = NaN;
    } else {
      avg = Number.isFinite(avg) ? avg + (v - avg) * (1 - Math.exp(-Math.max(0, p.step - prev) / tau)) : v;
      out.push(avg);
    }
    prev = p.step;
  }
  return out;
}

/** The averaging span for a run of `lastStep` steps: a fortieth of it, at least 3 steps. */
export function smoothingSteps(lastStep: number): number {
  return Math.max(3, lastStep / 40);
}

/** The steps at which β changed, with its new value. */
export function betaChanges(points: readonly CurvePoint[]): { step: number; beta: number }[] {
  const out: { step: number; beta: number }[] = [];
  for (let i = 1; i < points.length; i++) {
    if (points[i]!.beta !== points[i - 1]!.beta) out.push({ step: points[i]!.step, beta: points[i]!.beta });
  }
  return out;
}

function cssVar(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

const MARGIN = { left: 46, right: 12, top: 18, bottom: 24 };
const PANEL_GAP = 28;

export class CurvesPlot {
  private width = 1;
  private height = 1;

  constructor(
    private readonly host: HTMLElement,
    private readonly canvas: HTMLCanvasElement,
  ) {}

  /** Matches the canvas to its box and the screen's pixel density. */
  resize(): void {
    this.width = Math.max(1, Math.round(this.host.clientWidth));
    this.height = Math.max(1, Math.round(this.canvas.clientHeight));
    const dpr = Math.min(3, window.devicePixelRatio || 1);
    this.canvas.width = Math.round(this.width * dpr);
    this.canvas.height = Math.round(this.height * dpr);
    this.canvas.getContext('2d')!.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  draw(points: readonly CurvePoint[]): void {
    const ctx = this.canvas.getContext('2d')!;
    ctx.clearRect(0, 0, this.width, this.height);
    ctx.fillStyle = cssVar(this.host, '--plot-bg', '#fbfaf7');
    ctx.fillRect(0, 0, this.width, this.height);
    const last = points.length ? points[points.length - 1]!.step : 0;
    const x = linearScale([0, Math.max(10, last)], [MARGIN.left, this.width - MARGIN.right]);
    const inner = this.height - MARGIN.top - MARGIN.bottom - PANEL_GAP;
    const upper = Math.round(inner * 0.62);
    const panels: Panel[] = [
      { keys: ['loss', 'reconstruction'], title: 'loss and reconstruction', top: MARGIN.top, height: upper },
      { keys: ['kl'], title: 'KL', top: MARGIN.top + upper + PANEL_GAP, height: inner - upper },
    ];
    ctx.font = '11px ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace';
    for (const panel of panels) this.drawPanel(ctx, panel, points, x);
    this.drawStepAxis(ctx, x, panels[1]!);
  }

  private drawPanel(ctx: CanvasRenderingContext2D, panel: Panel, points: readonly CurvePoint[], x: Scale): void {
    const y = linearScale(curveRange(points, panel.keys), [panel.top + panel.height, panel.top]);
    const label = cssVar(this.host, '--plot-label', '#666');
    ctx.strokeStyle = cssVar(this.host, '--plot-grid', 'rgba(0,0,0,0.07)');
    ctx.fillStyle = label;
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of niceTicks(y.domain[0], y.domain[1], panel.height < 90 ? 2 : 4)) {
      const py = Math.round(y(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, py);
      ctx.lineTo(this.width - MARGIN.right, py);
      ctx.stroke();
      ctx.fillText(tickLabel(t), MARGIN.left - 6, py);
    }
    ctx.textAlign = 'left';
    ctx.textBaseline = 'bottom';
    ctx.fillText(panel.title, MARGIN.left, panel.top - 4);

    ctx.save();
    ctx.beginPath();
    ctx.rect(MARGIN.left, panel.top, this.width - MARGIN.left - MARGIN.right, panel.height);
    ctx.clip();
    this.drawBetaMarks(ctx, points, x, panel);
    for (const key of panel.keys) this.drawLine(ctx, points, key, x, y);
    ctx.restore();
  }

  /** Each report's mean faintly, and over it the moving average that shows the trend. */
  private drawLine(ctx: CanvasRenderingContext2D, points: readonly CurvePoint[], key: Key, x: Scale, y: Scale): void {
    const last = points.length ? points[points.length - 1]!.step : 0;
    ctx.strokeStyle = cssVar(this.host, CURVE_COLOR_VARS[key], '#333');
    ctx.lineJoin = 'round';
    ctx.globalAlpha = 0.22;
    ctx.lineWidth = 1;
    this.strokeSeries(ctx, points, points.map((p) => p[key]), x, y);
    ctx.globalAlpha = 1;
    // The loss is drawn first and wider: where the KL is near 0 it lies under the reconstruction as its outline.
    ctx.lineWidth = key === 'loss' ? 3 : 1.5;
    this.strokeSeries(ctx, points, smoothed(points, key, smoothingSteps(last)), x, y);
  }

  private strokeSeries(ctx: CanvasRenderingContext2D, points: readonly CurvePoint[], values: readonly number[], x: Scale, y: Scale): void {
    ctx.beginPath();
    let pen = false;
    points.forEach((p, i) => {
      const v = values[i]!;
      if (!Number.isFinite(v)) {
        pen = false;
        return;
      }
      if (pen) ctx.lineTo(x(p.step), y(v));
      else ctx.moveTo(x(p.step), y(v));
      pen = true;
    });
    ctx.stroke();
  }

  private drawBetaMarks(ctx: CanvasRenderingContext2D, points: readonly CurvePoint[], x: Scale, panel: Panel): void {
    ctx.strokeStyle = cssVar(this.host, '--plot-axis', 'rgba(0,0,0,0.3)');
    ctx.fillStyle = cssVar(this.host, '--plot-label', '#666');
    ctx.setLineDash([3, 3]);
    ctx.textBaseline = 'top';
    for (const { step, beta } of betaChanges(points)) {
      const px = Math.round(x(step)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(px, panel.top);
      ctx.lineTo(px, panel.top + panel.height);
      ctx.stroke();
      if (!panel.keys.includes('kl')) continue;
      // Beside the line, on whichever side has room.
      const label = `β ${beta.toFixed(1)}`;
      const left = px + 3 + ctx.measureText(label).width > this.width - MARGIN.right;
      ctx.textAlign = left ? 'right' : 'left';
      ctx.fillText(label, left ? px - 3 : px + 3, panel.top + 2);
    }
    ctx.setLineDash([]);
  }

  private drawStepAxis(ctx: CanvasRenderingContext2D, x: Scale, bottom: Panel): void {
    const base = bottom.top + bottom.height;
    ctx.strokeStyle = cssVar(this.host, '--plot-axis', 'rgba(0,0,0,0.3)');
    ctx.fillStyle = cssVar(this.host, '--plot-label', '#666');
    ctx.beginPath();
    ctx.moveTo(MARGIN.left, base + 0.5);
    ctx.lineTo(this.width - MARGIN.right, base + 0.5);
    ctx.stroke();
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const ticks = niceTicks(x.domain[0], x.domain[1], Math.max(2, Math.floor((this.width - MARGIN.left) / 70)));
    for (const t of ticks) ctx.fillText(tickLabel(t), x(t), base + 5);
  }
}
