/** What the training loop needs from a data set, whatever its source (MNIST IDX, CelebA folder, avatars). */
import type { ImageShape } from '../../lib/bundle.ts';

export interface Batch {
  /** NHWC float32 pixels in [0, 1], `size` images. */
  x: Float32Array;
  size: number;
  /** Dataset indices of the images in this batch. */
  indices: Int32Array;
}

export interface Split {
  readonly count: number;
  /** One class label per image (digits), if the set has classes. */
  readonly labels?: Uint8Array;
  /** count x attributeNames.length values of +1 / -1, if the set has attributes. */
  readonly attributes?: Int8Array;
  /** Pixels of the given images as NHWC float32 in [0, 1]. */
  read(indices: ArrayLike<number>): Float32Array;
  /**
   * The images of one epoch in batches, order shuffled deterministically by
   * `seed` (the same seed gives the same order, so a resumed run replays it).
   * `skip` batches are passed over without reading, to resume mid-epoch.
   */
  batches(batchSize: number, seed: number, skip?: number): Iterable<Batch>;
}

export interface ImageDataset {
  /** e.g. "MNIST", "CelebA", "Avatars (synthetic CelebA layout)". */
  readonly name: string;
  readonly source: string;
  readonly image: ImageShape;
  readonly classes?: readonly string[];
  readonly attributeNames?: readonly string[];
  readonly train: Split;
  readonly test: Split;
}
