/**
 * The drawing pad: white ink on black, as MNIST stores its digits. Strokes
 * are kept as vectors and rendered again MNIST-style for the model: bounding
 * box fitted to 20 x 20 in a 28 x 28 image, centred by mass.
 */
import { centreByMass, downsample, fitTransform, greyFromRgba, judgeDrawing, strokeBounds, type Point, type Stroke } from '../mnist-preprocess.ts';
import type { AnomalyPage } from './page.ts';
import { resetResult } from './verdict.ts';

/** Oversampling of the MNIST-style render before it is averaged down to 28x28 (smooth, anti-aliased strokes). */
const SUPERSAMPLE = 4;
const SIZE = 28;

function penWidth(pad: HTMLCanvasElement): number {
  return pad.width * 0.055;
}

function padPoint(pad: HTMLCanvasElement, e: PointerEvent): Point {
  const r = pad.getBoundingClientRect();
  return [((e.clientX - r.left) / r.width) * pad.width, ((e.clientY - r.top) / r.height) * pad.height];
}

function drawStrokes(ctx: CanvasRenderingContext2D, list: readonly Stroke[], scale: number, dx: number, dy: number, width: number): void {
  ctx.strokeStyle = '#fff';
  ctx.fillStyle = '#fff';
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.lineWidth = width;
  for (const s of list) {
    if (s.length === 1) {
      ctx.beginPath();
      ctx.arc(s[0]![0] * scale + dx, s[0]![1] * scale + dy, width / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    ctx.beginPath();
    s.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x * scale + dx, y * scale + dy) : ctx.lineTo(x * scale + dx, y * scale + dy)));
    ctx.stroke();
  }
}

export function redrawPad(p: AnomalyPage): void {
  const pad = p.el.pad;
  const ctx = pad.getContext('2d')!;
  ctx.fillStyle = '#0b0c0e';
  ctx.fillRect(0, 0, pad.width, pad.height);
  drawStrokes(ctx, p.strokes, 1, 0, 0, penWidth(pad));
}

/** The strokes as a 28x28 MNIST-style image, or null with nothing drawn. */
function modelInput(p: AnomalyPage): Float32Array | null {
  const bounds = strokeBounds(p.strokes);
  if (!bounds) return null;
  const t = fitTransform(bounds, { minExtent: p.el.pad.width * 0.12 });
  const big = SIZE * SUPERSAMPLE;
  const canvas = new OffscreenCanvas(big, big);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, big, big);
  drawStrokes(ctx as unknown as CanvasRenderingContext2D, p.strokes, t.scale * SUPERSAMPLE, t.offsetX * SUPERSAMPLE, t.offsetY * SUPERSAMPLE, t.penWidth * SUPERSAMPLE);
  const grey = greyFromRgba(ctx.getImageData(0, 0, big, big).data);
  return centreByMass(downsample(grey, big, SUPERSAMPLE), SIZE);
}

/** Scores the drawing (or says why it cannot be judged) once the model runs. */
export function requestDrawingScore(p: AnomalyPage): void {
  const input = modelInput(p);
  if (!input || !p.runner) return;
  const check = judgeDrawing(input, SIZE);
  void p.scheduler.request({ input, source: 'drawing', example: null, unjudged: check.ok ? undefined : check.message });
}

/** Clears the drawing (an example picked, or the Clear button). */
export function clearStrokes(p: AnomalyPage): void {
  p.strokes.length = 0;
  redrawPad(p);
}

export function bindPad(p: AnomalyPage): void {
  const { pad } = p.el;
  pad.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    pad.setPointerCapture(e.pointerId);
    p.drawing = [padPoint(pad, e)];
    p.strokes.push(p.drawing);
    for (const b of p.el.exampleButtons) b.setAttribute('aria-pressed', 'false');
    redrawPad(p);
  });
  pad.addEventListener('pointermove', (e) => {
    if (!p.drawing) return;
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const c of events.length ? events : [e]) p.drawing.push(padPoint(pad, c));
    redrawPad(p);
    requestDrawingScore(p);
  });
  const end = () => {
    if (!p.drawing) return;
    p.drawing = null;
    requestDrawingScore(p);
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  p.el.clear.addEventListener('click', () => {
    p.drawing = null;
    clearStrokes(p);
    resetResult(p);
  });
  redrawPad(p);
}
