import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmFilterGradients, setFilterGradChunk, setFilterGradSwap } from '../../lib/wasm-filter-grad.ts';

type Case = { name: string; x: [number, number, number, number]; k: [number, number, number, number]; s: number; pad: 'same' | 'valid' };

const cases: Case[] = [
  { name: '3x3 s1 same', x: [2, 7, 7, 3], k: [3, 3, 3, 4], s: 1, pad: 'same' },
  { name: '3x3 s2 same', x: [3, 28, 28, 1], k: [3, 3, 1, 5], s: 2, pad: 'same' },
  { name: '3x3 s2 same odd', x: [2, 7, 7, 4], k: [3, 3, 4, 2], s: 2, pad: 'same' },
  { name: '4x4 s2 same', x: [2, 16, 16, 3], k: [4, 4, 3, 6], s: 2, pad: 'same' },
  { name: '5x5 s2 valid', x: [2, 13, 11, 2], k: [5, 5, 2, 3], s: 2, pad: 'valid' },
  { name: '5x5 s2 valid, last row and column unread', x: [2, 12, 10, 2], k: [5, 5, 2, 3], s: 2, pad: 'valid' },
  { name: '3x3 s1 valid', x: [4, 9, 8, 2], k: [3, 3, 2, 2], s: 1, pad: 'valid' },
  // Fewer input than output channels: dy, the operand XNNPACK packs as the filter, is the large one.
  { name: '3x3 s1 same, 1 -> 8 channels', x: [3, 10, 9, 1], k: [3, 3, 1, 8], s: 1, pad: 'same' },
  { name: '4x2 s1 valid, 2 -> 5 channels', x: [2, 9, 7, 2], k: [4, 2, 2, 5], s: 1, pad: 'valid' },
  { name: '1x1 s1, 3 -> 4 channels', x: [2, 5, 5, 3], k: [1, 1, 3, 4], s: 1, pad: 'same' },
  // More images than one GEMM takes: the batch is summed in chunks, the last one partial.
  { name: '3x3 s2 same, batch 37', x: [37, 9, 9, 2], k: [3, 3, 2, 3], s: 2, pad: 'same' },
  { name: '4x4 s2 same, batch 70', x: [70, 8, 8, 3], k: [4, 4, 3, 4], s: 2, pad: 'same' },
  { name: '3x3 s1 same, 3 -> 32 channels, batch 40', x: [40, 12, 10, 3], k: [3, 3, 3, 32], s: 1, pad: 'same' },
  { name: '4x4 s1 same (uneven padding), 1 -> 6 channels', x: [3, 9, 8, 1], k: [4, 4, 1, 6], s: 1, pad: 'same' },
];

function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

/** Gradients of sum(conv(x, W) * r) for x and W, for conv2d and conv2dTranspose. */
function grads(c: Case): Record<string, Float32Array> {
  return tf.tidy(() => {
    const x = seeded(c.x, 1) as tf.Tensor4D;
    const w = seeded(c.k, 2) as tf.Tensor4D;
    const y = tf.conv2d(x, w, c.s, c.pad);
    const r = seeded(y.shape, 3);
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), r)))([x, w]);
    // conv2dTranspose maps y's shape back to x's: its input is r-shaped, its filter w.
    const [gt, gwt] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, c.x, c.s, c.pad), x)))([r, w]);
    // tfjs-layers convolves through the fused op, whose gradient calls the kernel directly.
    const bias = seeded([c.k[3]], 4) as tf.Tensor1D;
    const [gfw, gfb] = tf.grads((b: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(tf.fused.conv2d({ x, filter: b as tf.Tensor4D, strides: c.s, pad: c.pad, bias: bb }), r)))([w, bias]);
    return {
      gfw: gfw!.dataSync() as Float32Array,
      gfb: gfb!.dataSync() as Float32Array,
      gx: gx!.dataSync() as Float32Array,
      gw: gw!.dataSync() as Float32Array,
      gt: gt!.dataSync() as Float32Array,
      gwt: gwt!.dataSync() as Float32Array,
    };
  });
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
  return worst;
}

describe('conv filter gradients on wasm', () => {
  const reference = new Map<string, Record<string, Float32Array>>();

  beforeAll(async () => {
    // The cpu backend's own Conv2DBackpropFilter kernel is the reference; take it before our gradients are registered.
    await tf.setBackend('cpu');
    for (const c of cases) reference.set(c.name, grads(c));
    await tf.setBackend('wasm');
    // wasm ships without it; were that to change, this work would be moot.
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    registerWasmFilterGradients();
  });

  it('supplies the kernel wasm lacks', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  // 0: the whole batch in one GEMM; 8 and the default (32): partial sums over chunks of images.
  // Stride-1 cases also run in the swapped form (x as the packed operand) and, where auto would swap, without it.
  const modes = [
    { chunk: 32, swap: 'auto' }, { chunk: 8, swap: 'auto' }, { chunk: 0, swap: 'auto' },
    { chunk: 32, swap: 'always' }, { chunk: 8, swap: 'always' }, { chunk: 32, swap: 'never' },
  ] as const;
  for (const { chunk, swap } of modes) {
    for (const c of cases) {
      if (swap !== 'auto' && c.s !== 1) continue;
      it(`matches the cpu kernel (${chunk ? `${chunk} images per GEMM` : 'whole batch'}, swap ${swap}): ${c.name}`, () => {
        setFilterGradChunk(chunk);
        setFilterGradSwap(swap);
        try {
          const before = tf.memory().numTensors;
          const ids = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
          const got = grads(c);
          const want = reference.get(c.name)!;
          for (const k of ['gx', 'gw', 'gt', 'gwt', 'gfw', 'gfb']) {
            expect(got[k]!.length, k).toBe(want[k]!.length);
            expect(maxRelErr(got[k]!, want[k]!), k).toBeLessThan(1e-4);
          }
          expect(tf.memory().numTensors).toBe(before);
          expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(ids);
        } finally {
          setFilterGradChunk(32);
          setFilterGradSwap('auto');
        }
      });
    }
  }
});
