/** A Split over uint8 pixels held in memory, and the seeded shuffle every split shares. */
import { mulberry32, shuffledIndices } from '../../lib/random.ts';
import type { Batch, Split } from './types.ts';

export { mulberry32, shuffledIndices };

export class MemorySplit implements Split {
  readonly count: number;
  private readonly pixelsPerImage: number;

  constructor(
    private readonly pixels: Uint8Array,
    pixelsPerImage: number,
    readonly labels?: Uint8Array,
    readonly attributes?: Int8Array,
  ) {
    if (pixels.length % pixelsPerImage !== 0) throw new Error(`pixel buffer of ${pixels.length} bytes is not a whole number of ${pixelsPerImage}-byte images`);
    this.pixelsPerImage = pixelsPerImage;
    this.count = pixels.length / pixelsPerImage;
    if (labels && labels.length !== this.count) throw new Error(`${labels.length} labels for ${this.count} images`);
  }

  read(indices: ArrayLike<number>): Float32Array {
    const p = this.pixelsPerImage;
    const out = new Float32Array(indices.length * p);
    for (let k = 0; k < indices.length; k++) {
      const idx = indices[k]!;
      if (!(idx >= 0 && idx < this.count)) throw new RangeError(`image index ${idx} outside 0..${this.count - 1}`);
      const src = this.pixels.subarray(idx * p, (idx + 1) * p);
      for (let i = 0; i < p; i++) out[k * p + i] = src[i]! / 255;
    }
    return out;
  }

  /** A split holding only the first `n` images (for quick runs). */
  head(n: number): MemorySplit {
    const m = Math.min(n, this.count);
    const a = this.attributes;
    const perImageAttrs = a ? a.length / this.count : 0;
    return new MemorySplit(
      this.pixels.subarray(0, m * this.pixelsPerImage),
      this.pixelsPerImage,
      this.labels?.subarray(0, m),
      a?.subarray(0, m * perImageAttrs),
    );
  }

  *batches(batchSize: number, seed: number, skip = 0): Iterable<Batch> {
    yield* batchesOf(this, batchSize, seed, skip);
  }
}

/** Batches of a split in a seeded order; the last, partial batch is kept. */
export function* batchesOf(split: Split, batchSize: number, seed: number, skip = 0): Iterable<Batch> {
  const order = shuffledIndices(split.count, seed);
  for (let start = skip * batchSize; start < order.length; start += batchSize) {
    const indices = order.subarray(start, Math.min(start + batchSize, order.length));
    yield { x: split.read(indices), size: indices.length, indices };
  }
}
