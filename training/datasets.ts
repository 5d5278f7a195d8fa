/**
 * Every data set `npm run train` knows, in one table: how to load it, the
 * bundle it makes by default, its architecture and what runs after training.
 * The CLI reads this table; it holds no per-dataset branches of its own.
 */
import type { ImageShape } from '../lib/bundle.ts';
import { FASHION_CLASSES, loadIdxDataset, loadMnist } from './data/mnist.ts';
import type { ImageDataset } from './data/types.ts';
import { DIGITS_ARCHITECTURE, facesArchitecture, type Architecture } from '../lib/vae-model.ts';

/** Defaults of `npm run train`, stated once: the parser and --help both read them. */
export const TRAIN_DEFAULTS = {
  dataset: 'mnist',
  imageSize: '64x64',
  cacheDir: 'data/cache',
  widths: '32,64,128,256',
  epochs: 20,
  batch: 64,
  lr: 1e-3,
  beta: 1,
  seed: 1,
  checkpointMinutes: 5,
  backend: 'auto',
  mapPoints: 5000,
} as const;

export interface LoadOptions {
  dataDir: string | undefined;
  size: [number, number];
  cacheDir: string;
  limit: number;
  crop: number;
}

/** What runs on a finished model before the bundle is done. */
export type AfterStep = 'attributes' | 'prior';

export interface DatasetSpec {
  /** Face sets take --crop, --widths and --image-size. */
  faces: boolean;
  id: string;
  title: string;
  description: string;
  latentDim: number;
  load(o: LoadOptions): Promise<ImageDataset>;
  architecture(image: ImageShape, widths: [number, number, number, number]): Architecture;
  after: AfterStep[];
}

export class DatasetError extends Error {}

async function loadFaceSet(kind: 'celeba' | 'avatars', o: LoadOptions): Promise<ImageDataset> {
  if (!o.dataDir) throw new DatasetError(`--dataset ${kind} needs --data-dir, a folder in CelebA's layout${kind === 'avatars' ? ' (make one with npm run data:avatars)' : ''}`);
  const { loadCelebA } = await import('./data/celeba.ts');
  const ds = await loadCelebA(o.dataDir, { size: o.size, cacheDir: o.cacheDir, limit: o.limit || undefined, crop: o.crop });
  return kind === 'avatars' ? { ...ds, name: 'Avatars (synthetic faces in CelebA layout)' } : ds;
}

const DIGITS_LIKE = { faces: false, latentDim: 2, description: 'A convolutional VAE with a two-dimensional latent space.', architecture: () => DIGITS_ARCHITECTURE, after: [] as AfterStep[] };
const FACES_LIKE = { faces: true, id: 'faces', title: 'Faces', latentDim: 128, description: 'A convolutional VAE on faces.', architecture: facesArchitecture, after: ['attributes', 'prior'] as AfterStep[] };

export const DATASETS: Record<string, DatasetSpec> = {
  mnist: { ...DIGITS_LIKE, id: 'digits', title: 'Handwritten digits (MNIST)', load: async (o) => (o.dataDir ? loadIdxDataset(o.dataDir, 'MNIST') : loadMnist()) },
  fashion: { ...DIGITS_LIKE, id: 'fashion', title: 'Fashion-MNIST', load: async (o) => loadIdxDataset(o.dataDir ?? '/usr/share/datasets/fashion-mnist', 'Fashion-MNIST', FASHION_CLASSES) },
  celeba: { ...FACES_LIKE, load: (o) => loadFaceSet('celeba', o) },
  avatars: { ...FACES_LIKE, load: (o) => loadFaceSet('avatars', o) },
};

/** The table entry for --dataset NAME, or a message listing the choices. */
export function datasetSpec(name: string): DatasetSpec {
  const spec = DATASETS[name];
  if (!spec) throw new DatasetError(`unknown --dataset ${JSON.stringify(name)}; choose ${Object.keys(DATASETS).join(', ').replace(/, (\w+)$/, ' or $1')}`);
  return spec;
}
