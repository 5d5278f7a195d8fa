/**
 * The live latent map: the test digits' codes as dots coloured by their true
 * label (the explorer's palette), gliding from each report to the next while
 * the axes follow. Also drawn: the prior's 1σ and 2σ circles and the square
 * the decoded grid covers. One canvas, redrawn per animation frame while the
 * points move, matched to the screen's pixel density.
 */
import { toScreen, type Extent, type Viewport } from '../digits/map-transform.ts';
import { classColor } from '../digits/plane-data.ts';
import { cssVar, drawPlaneAxes } from '../studio/plane-axes.ts';
import { PointTween } from './tween.ts';

/** The points glide this long to new codes; not at all for a visitor who asks for reduced motion. */
function motionMs(): number {
  return window.matchMedia?.('(prefers-reduced-motion: reduce)').matches ? 0 : 250;
}

export class MapPlot {
  readonly tween = new PointTween(motionMs());
  private labels: Uint8Array = new Uint8Array(0);
  private highlighted: number | null = null;
  private gridHalf: number | null = null;
  private view: Viewport = { size: 1, inset: 0 };

  constructor(
    private readonly host: HTMLElement,
    private readonly canvas: HTMLCanvasElement,
  ) {}

  setLabels(labels: Uint8Array): void {
    this.labels = labels;
  }

  /** New codes: the points set off towards them now. */
  setCodes(z: Float32Array, time: number): void {
    this.tween.retarget(z, time);
  }

  /** The decoded grid's square, [-half, half]², outlined on the map. */
  setGridHalf(half: number | null): void {
    this.gridHalf = half;
  }

  highlight(label: number | null): void {
    this.highlighted = label;
  }

  clear(): void {
    this.tween.clear();
    this.gridHalf = null;
  }

  /** Matches the canvas to its box and the screen's pixel density. */
  resize(): void {
    const size = Math.max(1, Math.round(this.host.clientWidth));
    const dpr = Math.min(3, window.devicePixelRatio || 1);
    this.canvas.width = Math.round(size * dpr);
    this.canvas.height = Math.round(size * dpr);
    this.canvas.getContext('2d')!.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.view = { size, inset: 0 };
  }

  /** Draws the map as it stands at `time`; true while the points are still moving. */
  draw(time: number): boolean {
    const ctx = this.canvas.getContext('2d')!;
    const extent: Extent = { half: this.tween.half(time) };
    ctx.fillStyle = cssVar(this.host, '--plot-bg', '#fbfaf7');
    ctx.fillRect(0, 0, this.view.size, this.view.size);
    this.drawFrame(ctx, extent);
    this.drawPoints(ctx, extent, this.tween.at(time));
    return this.tween.moving(time);
  }

  /** The shared frame, and the square the decoded grid covers. */
  private drawFrame(ctx: CanvasRenderingContext2D, extent: Extent): void {
    const { cx, cy, unit, axis } = drawPlaneAxes(ctx, this.host, extent, this.view);
    if (this.gridHalf !== null) {
      ctx.strokeStyle = axis;
      ctx.setLineDash([1.5, 3]);
      const g = this.gridHalf * unit;
      ctx.strokeRect(cx - g, cy - g, 2 * g, 2 * g);
      ctx.setLineDash([]);
    }
  }

  private drawPoints(ctx: CanvasRenderingContext2D, extent: Extent, z: Float32Array): void {
    const { size } = this.view;
    const n = Math.min(this.labels.length, z.length / 2);
    const radius = Math.max(1.1, Math.min(2.2, size / 340));
    const dimmed = this.highlighted !== null;
    const classes = new Set<number>();
    for (let i = 0; i < n; i++) classes.add(this.labels[i]!);
    // The highlighted class last, so it sits on top of the others.
    const order = [...classes].sort((a, b) => Number(a === this.highlighted) - Number(b === this.highlighted) || a - b);
    for (const label of order) {
      ctx.globalAlpha = !dimmed ? 0.72 : label === this.highlighted ? 0.9 : 0.12;
      ctx.fillStyle = classColor(label);
      ctx.beginPath();
      for (let i = 0; i < n; i++) {
        if (this.labels[i] !== label) continue;
        const [x, y] = toScreen(extent, this.view, z[2 * i]!, z[2 * i + 1]!);
        if (!(x > -radius && y > -radius && x < size + radius && y < size + radius)) continue;
        ctx.moveTo(x + radius, y);
        ctx.arc(x, y, radius, 0, 2 * Math.PI);
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }
}
