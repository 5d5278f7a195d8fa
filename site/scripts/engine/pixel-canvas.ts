/**
 * The 2D context for a canvas that shows decoded pixels (putImageData after
 * every decode). It is kept in CPU memory (willReadFrequently): Chromium
 * backs other 2D canvases with the GPU and, at the end of a task that drew
 * on one, may make the page's thread wait until the GPU has caught up ("GPU
 * backpressure"). With decodes in a worker every result is drawn in its own
 * task, so the waits added up: under software GL (SwiftShader) a digit took
 * 25 ms a frame for a 3 ms decode. A 28- or 64-pixel image gains nothing from
 * the GPU; the compositor uploads the bitmap when it paints.
 */
export const PIXEL_CONTEXT: CanvasRenderingContext2DSettings = { willReadFrequently: true };

/**
 * The canvas's 2D context, CPU-backed. The first getContext() call on a
 * canvas fixes its settings, so call this before anything else asks for one.
 */
export function pixelContext(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d', PIXEL_CONTEXT);
  if (!ctx) throw new Error(`the canvas #${canvas.id || '(no id)'} gives no 2D context; this browser cannot show decoded images`);
  return ctx;
}
