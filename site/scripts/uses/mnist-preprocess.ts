/**
 * Turns a drawing into the kind of image the model was trained on, the way
 * MNIST's digits were made: grey anti-aliased strokes, the bounding box scaled
 * to fit 20x20 (aspect kept), then placed in 28x28 so that the centre of mass
 * sits at the centre. Strokes are kept as vectors and drawn again at the
 * target size, so the pen is equally thick however large the visitor drew.
 * The functions here are pure; the page does the canvas drawing.
 */

export type Point = [number, number];
export type Stroke = Point[];

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export interface FitOptions {
  /** Side of the square the ink must fit (MNIST: 20). */
  box?: number;
  /** Side of the output image (MNIST: 28). */
  size?: number;
  /** Pen width in output pixels; MNIST strokes are two to three pixels wide. */
  penWidth?: number;
  /** Smallest drawing extent, in input units, that is scaled up to the full box (keeps a dot a dot). */
  minExtent?: number;
}

export interface Transform {
  /** Output pixel = input point * scale + offset. */
  scale: number;
  offsetX: number;
  offsetY: number;
  penWidth: number;
}

export const MNIST_FIT: Required<FitOptions> = { box: 20, size: 28, penWidth: 2.3, minExtent: 0 };

export function strokeBounds(strokes: readonly Stroke[]): Bounds | null {
  let b: Bounds | null = null;
  for (const stroke of strokes) {
    for (const [x, y] of stroke) {
      if (!b) b = { minX: x, minY: y, maxX: x, maxY: y };
      else {
        b.minX = Math.min(b.minX, x);
        b.minY = Math.min(b.minY, y);
        b.maxX = Math.max(b.maxX, x);
        b.maxY = Math.max(b.maxY, y);
      }
    }
  }
  return b;
}

/**
 * The transform that puts the strokes' bounding box, pen included, inside a
 * `box`-pixel square at the centre of the `size`-pixel output.
 */
export function fitTransform(bounds: Bounds, options: FitOptions = {}): Transform {
  const { box, size, penWidth, minExtent } = { ...MNIST_FIT, ...options };
  const w = bounds.maxX - bounds.minX;
  const h = bounds.maxY - bounds.minY;
  const extent = Math.max(w, h, minExtent, 1e-9);
  const scale = Math.max(0, box - penWidth) / extent;
  const cx = (bounds.minX + bounds.maxX) / 2;
  const cy = (bounds.minY + bounds.maxY) / 2;
  return { scale, offsetX: size / 2 - cx * scale, offsetY: size / 2 - cy * scale, penWidth };
}

/** Averages `factor` x `factor` blocks of a square grey image (values in [0, 1]) into one pixel each. */
export function downsample(grey: ArrayLike<number>, side: number, factor: number): Float32Array {
  const out = side / factor;
  if (!Number.isInteger(out) || grey.length !== side * side) throw new RangeError(`cannot shrink a ${side}x${side} image by ${factor}`);
  const result = new Float32Array(out * out);
  const area = factor * factor;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      result[Math.floor(y / factor) * out + Math.floor(x / factor)]! += grey[y * side + x]! / area;
    }
  }
  return result;
}

/** Centre of mass of a width x width grey image, pixel i spanning [i, i + 1); null for a blank image. */
export function centreOfMass(grey: ArrayLike<number>, width: number): Point | null {
  let sum = 0;
  let sx = 0;
  let sy = 0;
  const height = grey.length / width;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = grey[y * width + x]!;
      sum += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  }
  return sum > 0 ? [sx / sum, sy / sum] : null;
}

/** Moves an image by whole pixels (positive dx to the right, dy down); what leaves the frame is lost. */
export function shiftImage(grey: ArrayLike<number>, width: number, dx: number, dy: number): Float32Array {
  const height = grey.length / width;
  const out = new Float32Array(grey.length);
  for (let y = 0; y < height; y++) {
    const ty = y + dy;
    if (ty < 0 || ty >= height) continue;
    for (let x = 0; x < width; x++) {
      const tx = x + dx;
      if (tx >= 0 && tx < width) out[ty * width + tx] = grey[y * width + x]!;
    }
  }
  return out;
}

/** Shifts a square image so that its centre of mass lands on the centre pixel corner (14, 14 for MNIST). */
export function centreByMass(grey: ArrayLike<number>, width: number): Float32Array {
  const com = centreOfMass(grey, width);
  if (!com) return Float32Array.from(grey);
  const dx = Math.round(width / 2 - com[0]);
  const dy = Math.round(grey.length / width / 2 - com[1]);
  return shiftImage(grey, width, dx, dy);
}

/** Grey levels from RGBA bytes, white ink on black as MNIST: the red channel scaled to [0, 1]. */
export function greyFromRgba(rgba: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rgba.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = rgba[4 * i]! / 255;
  return out;
}

/**
 * Below these a drawing is not judged: every MNIST digit's ink spans at least
 * 19 of its 28 pixels and sums to at least 22 (white = 1); a mark under half
 * of either is a dot or a speck, and the model's score for it says nothing
 * about digits.
 */
export const MIN_JUDGED_SPAN = 10;
export const MIN_JUDGED_INK = 11;
/** A pixel at least this bright counts towards the ink's span. */
const INK_LEVEL = 0.1;

export type DrawingCheck = { ok: true } | { ok: false; reason: 'empty' | 'small' | 'faint'; message: string };

/** Whether a preprocessed width x width drawing has enough ink, spread far enough, to be scored as a digit. */
export function judgeDrawing(grey: ArrayLike<number> | null, width: number): DrawingCheck {
  let ink = 0;
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  const n = grey?.length ?? 0;
  for (let i = 0; i < n; i++) {
    const v = grey![i]!;
    ink += v;
    if (v < INK_LEVEL) continue;
    const x = i % width;
    const y = Math.floor(i / width);
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  if (maxX < minX) return { ok: false, reason: 'empty', message: 'Nothing to judge yet: draw a digit on the pad.' };
  const span = Math.max(maxX - minX, maxY - minY) + 1;
  if (span < MIN_JUDGED_SPAN) return { ok: false, reason: 'small', message: 'Too small to judge: draw the digit larger, across a good part of the pad.' };
  if (ink < MIN_JUDGED_INK) return { ok: false, reason: 'faint', message: 'Too little ink to judge: draw the whole digit.' };
  return { ok: true };
}
