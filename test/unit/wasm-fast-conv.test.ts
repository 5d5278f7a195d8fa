import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { registerFastWasmConvKernels, setPhaseSplit, unregisterFastWasmConvKernels } from '../../lib/wasm-fast-conv.ts';
import { registerWasmFilterGradients } from '../../lib/wasm-filter-grad.ts';
import { leadingAxes, registerFastWasmSum, unregisterFastWasmSum } from '../../lib/wasm-fast-sum.ts';
import { initWasmBackend, type WasmInitResult } from '../../training/wasm/threads.ts';
import { registerSharedWasmIdentity, unregisterSharedWasmIdentity } from '../../lib/wasm-identity.ts';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/** A transposed conv producing `x` (= the forward conv's input) from dy. */
interface Case {
  name: string;
  x: Shape4;
  /** [kh, kw, Cin, Cout] of the forward conv; Cin must equal x[3]. */
  k: Shape4;
  s: number | [number, number];
  pad: Pad;
}

const cases: Case[] = [
  // MNIST VAE decoder and encoder-gradient shapes.
  { name: 'mnist 7x7 64->64 s1', x: [16, 7, 7, 64], k: [3, 3, 64, 64], s: 1, pad: 'same' },
  { name: 'mnist 7->14 64->64 s2', x: [16, 14, 14, 64], k: [3, 3, 64, 64], s: 2, pad: 'same' },
  { name: 'mnist 14->28 64->32 s2', x: [8, 28, 28, 32], k: [3, 3, 32, 64], s: 2, pad: 'same' },
  { name: 'mnist 28x28 32->1 s1', x: [8, 28, 28, 1], k: [3, 3, 1, 32], s: 1, pad: 'same' },
  // Faces-style 4x4 stride-2 layers.
  { name: 'faces 4x4 s2 256->128', x: [2, 8, 8, 128], k: [4, 4, 128, 256], s: 2, pad: 'same' },
  { name: 'faces 4x4 s2 to rgb', x: [2, 64, 64, 3], k: [4, 4, 3, 32], s: 2, pad: 'same' },
  // 5x5, valid padding, odd and non-square sizes.
  { name: '5x5 s2 valid non-square', x: [2, 13, 11, 3], k: [5, 5, 3, 4], s: 2, pad: 'valid' },
  { name: '5x5 s1 valid', x: [1, 9, 10, 3], k: [5, 5, 3, 2], s: 1, pad: 'valid' },
  { name: '3x3 s2 valid odd', x: [3, 15, 10, 5], k: [3, 3, 5, 6], s: 2, pad: 'valid' },
  { name: '3x3 s2 same odd', x: [2, 7, 9, 4], k: [3, 3, 4, 2], s: 2, pad: 'same' },
  { name: '4x4 s2 valid', x: [2, 10, 12, 3], k: [4, 4, 3, 5], s: 2, pad: 'valid' },
  { name: '2x2 s2 same (needs a dy crop)', x: [2, 13, 11, 2], k: [2, 2, 2, 3], s: 2, pad: 'same' },
  { name: '3x5 kernel s2 same', x: [2, 12, 10, 3], k: [3, 5, 3, 4], s: 2, pad: 'same' },
  { name: '4x4 s3 same', x: [2, 10, 9, 4], k: [4, 4, 4, 3], s: 3, pad: 'same' },
  { name: '1x1 s2 same (empty phases)', x: [2, 6, 6, 2], k: [1, 1, 2, 3], s: 2, pad: 'same' },
  { name: 'numeric pad 1, 3x3 s2', x: [2, 9, 9, 3], k: [3, 3, 3, 4], s: 2, pad: 1 },
  { name: 'explicit pad wider than kernel', x: [2, 8, 7, 2], k: [3, 3, 2, 3], s: 2, pad: [[0, 0], [3, 0], [0, 4], [0, 0]] },
  { name: 'unequal strides (stock fallback)', x: [2, 8, 8, 2], k: [3, 3, 2, 3], s: [1, 2], pad: 'same' },
  // Batch extremes.
  { name: 'batch 1', x: [1, 14, 14, 16], k: [3, 3, 16, 8], s: 2, pad: 'same' },
  { name: 'batch 128', x: [128, 8, 8, 4], k: [3, 3, 4, 8], s: 2, pad: 'same' },
];

/** Deterministic values in [-1, 1), independent of backend and tf's RNG. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let state = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

function dyShape(c: Case): Shape4 {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.k, c.s, 1, c.pad as 'same');
  return [c.x[0], info.outHeight, info.outWidth, c.k[3]];
}

/** conv2dTranspose forward (the kernel directly) and conv2d's input gradient (through autodiff). */
function compute(c: Case): { transpose: Float32Array; inputGrad: Float32Array } {
  return tf.tidy(() => {
    const dys = dyShape(c);
    const w = tf.tensor4d(values(tf.util.sizeFromShape(c.k), 2), c.k);
    const dy = tf.tensor4d(values(tf.util.sizeFromShape(dys), 3), dys);
    const x = tf.tensor4d(values(tf.util.sizeFromShape(c.x), 1), c.x);
    const transpose = tf.conv2dTranspose(dy, w, c.x, c.s, c.pad as 'same').dataSync() as Float32Array;
    const inputGrad = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, w, c.s, c.pad as 'same'), dy)))(x);
    return { transpose, inputGrad: inputGrad.dataSync() as Float32Array };
  });
}

/** Largest absolute difference relative to the reference's largest magnitude. */
function maxRelErr(got: Float32Array, want: Float32Array): number {
  let scale = 1e-6;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / scale);
  return worst;
}

function wasmDataIds(): number {
  return (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
}

/** Learnable targets in [0, 1]: a different plane wave per image. */
function smoothImages(n: number, side: number): Float32Array {
  const out = new Float32Array(n * side * side);
  for (let b = 0, o = 0; b < n; b++) {
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) out[o++] = 0.5 + 0.5 * Math.sin(0.3 * (b + 1) * (x + 0.5 * y) + b);
    }
  }
  return out;
}

/** Small conv autoencoder with a fixed initialisation: stride-1 and stride-2 convs and transposed convs. */
function buildAutoencoder(): tf.LayersModel {
  let seed = 7;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const x = tf.input({ shape: [12, 12, 1] });
  let h = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu', kernelInitializer: init() }).apply(x);
  h = tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init() }).apply(h);
  h = tf.layers.conv2dTranspose({ filters: 8, kernelSize: 4, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init() }).apply(h);
  h = tf.layers.conv2dTranspose({ filters: 1, kernelSize: 3, strides: 1, padding: 'same', kernelInitializer: init() }).apply(h);
  return tf.model({ inputs: x, outputs: h as tf.SymbolicTensor });
}

const STEPS = 6;

/** Losses of a few Adam steps on a fixed batch, on the current backend. */
function trainLosses(steps: number): number[] {
  const model = buildAutoencoder();
  const opt = tf.train.adam(1e-2);
  const batch = tf.tensor4d(smoothImages(16, 12), [16, 12, 12, 1]);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const loss = opt.minimize(() => tf.losses.sigmoidCrossEntropy(batch, model.apply(batch) as tf.Tensor) as tf.Scalar, true)!;
    losses.push(loss.dataSync()[0]!);
    loss.dispose();
  }
  batch.dispose();
  opt.dispose();
  model.dispose();
  return losses;
}

/**
 * Runs an ES-module snippet in a fresh Node process (with tsx, from the repo
 * root) and returns the JSON its last stdout line holds. Fails if the process
 * does not exit on its own within a minute.
 */
function runChild(script: string): unknown {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(child.signal, 'killed by the timeout: the process did not exit').toBeNull();
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').pop()!);
}

describe('wasm fast conv kernels and threads', () => {
  const cpu = new Map<string, ReturnType<typeof compute>>();
  let init: WasmInitResult;
  let cpuLosses: number[];

  beforeAll(async () => {
    await tf.setBackend('cpu');
    for (const c of cases) cpu.set(c.name, compute(c));
    cpuLosses = trainLosses(STEPS);
    // Two threads also exercises the threaded module: XNNPACK splits the convs.
    init = await initWasmBackend({ threads: 2 });
    registerWasmFilterGradients();
  });

  it('runs the wasm backend with SIMD and two XNNPACK threads', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(init).toEqual({ threads: 2, simd: true });
  });

  it('lets a process using XNNPACK threads exit by itself', () => {
    // XNNPACK's pool threads never finish; if their workers held the event
    // loop, a training CLI would hang after its last epoch.
    const out = runChild(`
      const { initWasmBackend } = await import('./training/wasm/threads.ts');
      const tf = await import('@tensorflow/tfjs');
      const r = await initWasmBackend({ threads: 2 });
      tf.conv2d(tf.ones([4, 16, 16, 8]), tf.ones([3, 3, 8, 8]), 1, 'same').dataSync();
      console.log(JSON.stringify(r));`);
    expect(out).toEqual({ threads: 2, simd: true });
  });

  it('falls back to one thread, with a note, when the threaded module cannot start', () => {
    const out = runChild(`
      import { createRequire } from 'node:module';
      const req = createRequire(process.cwd() + '/training/wasm/threads.ts');
      const file = req.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
      req.cache[file] = { id: file, filename: file, loaded: true, exports: () => Promise.reject(new Error('simulated failure')) };
      const { initWasmBackend } = await import('./training/wasm/threads.ts');
      const tf = await import('@tensorflow/tfjs');
      const r = await initWasmBackend({ threads: 2 });
      console.log(JSON.stringify({ ...r, backend: tf.getBackend(), sum: tf.sum(tf.ones([3])).dataSync()[0] }));`);
    expect(out).toEqual({
      threads: 1,
      simd: true,
      note: 'threaded wasm unavailable, using 1 thread: simulated failure',
      backend: 'wasm',
      sum: 3,
    });
  });

  it('stays correct when tensors live above 2 GB of wasm heap', () => {
    // Offsets past 2^31 break signed 32-bit arithmetic (x >> 2 goes negative).
    const out = runChild(`
      const tf = await import('@tensorflow/tfjs');
      const { initWasmBackend } = await import('./training/wasm/threads.ts');
      const fast = await import('./lib/wasm-fast-conv.ts');
      await initWasmBackend({ threads: 1 });
      // A raw 2.2 GB allocation (never touched, so cheap) pushes later tensors past 2 GB.
      const ballast = tf.backend().wasm._malloc(2_200_000_000) >>> 0;
      const w = tf.randomUniform([3, 3, 32, 64], -1, 1, 'float32', 1);
      const dy = tf.randomUniform([4, 14, 14, 64], -1, 1, 'float32', 2);
      const offset = tf.backend().dataIdMap.get(dy.dataId).memoryOffset;
      const want = tf.conv2dTranspose(dy, w, [4, 28, 28, 32], 2, 'same').dataSync();
      fast.registerFastWasmConvKernels();
      const got = tf.conv2dTranspose(dy, w, [4, 28, 28, 32], 2, 'same').dataSync();
      let maxDiff = 0;
      for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
      console.log(JSON.stringify({ above2GB: offset > 2 ** 31, maxDiff, ballast: ballast > 0 }));`);
    expect(out).toEqual({ above2GB: true, maxDiff: 0, ballast: true });
  });

  it('Identity shares data instead of copying it, and frees it with the last reference', () => {
    const stockKernel = tf.getKernel('Identity', 'wasm').kernelFunc;
    registerSharedWasmIdentity();
    registerSharedWasmIdentity();
    try {
      expect(tf.getKernel('Identity', 'wasm').kernelFunc).not.toBe(stockKernel);
      const ids = wasmDataIds();
      const tensors = tf.memory().numTensors;
      const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
      const y = tf.clone(x); // runs Identity
      expect(wasmDataIds()).toBe(ids + 1); // one buffer for both
      expect(y.dataId).toBe(x.dataId);
      x.dispose();
      expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
      // A gradient through identity-using ops still flows, and variables updated in place keep their values apart.
      const init = tf.tensor1d([1, 2]);
      const next = tf.tensor1d([7, 8]);
      const v = tf.variable(init);
      const snapshot = tf.clone(v);
      v.assign(next);
      expect(Array.from(snapshot.dataSync())).toEqual([1, 2]);
      expect(Array.from(v.dataSync())).toEqual([7, 8]);
      const g = tf.tidy(() => Array.from(tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.clone(a), a)))(tf.tensor1d([3, -1])).dataSync()));
      expect(g).toEqual([6, -2]);
      // Strings are not on the heap: the stock kernel handles them.
      expect(tf.tidy(() => tf.clone(tf.tensor1d(['a', 'b'])).dataSync())).toEqual(['a', 'b']);
      tf.dispose([y, v, snapshot, init, next]);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(wasmDataIds()).toBe(ids);
    } finally {
      unregisterSharedWasmIdentity();
    }
    expect(tf.getKernel('Identity', 'wasm').kernelFunc).toBe(stockKernel);
  });

  it('sums over leading axes as the stock Sum does, and hands other reductions to it', () => {
    const x = tf.randomUniform([6, 5, 4, 3], -1, 1, 'float32', 9);
    const xi = tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32');
    const run = () => tf.tidy(() => [
      ...[[0], [0, 1], [0, 1, 2], [-4, -3], [1, 0]].flatMap((axes) => [tf.sum(x, axes), tf.sum(x, axes, true)]),
      tf.sum(x, [3]), tf.sum(x, [1, 2]), tf.sum(x), tf.sum(xi, 0), tf.sum(tf.zeros([0, 3]), 0),
    ].map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) })));
    const stock = run();
    const stockKernel = tf.getKernel('Sum', 'wasm').kernelFunc;
    registerFastWasmSum();
    registerFastWasmSum();
    try {
      expect(tf.getKernel('Sum', 'wasm').kernelFunc).not.toBe(stockKernel);
      const before = tf.memory().numTensors;
      const fast = run();
      expect(fast.map((f) => [f.shape, f.dtype])).toEqual(stock.map((f) => [f.shape, f.dtype]));
      fast.forEach((f, i) => f.values.forEach((v, j) => expect(v).toBeCloseTo(stock[i]!.values[j]!, 4)));
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      unregisterFastWasmSum();
    }
    expect(tf.getKernel('Sum', 'wasm').kernelFunc).toBe(stockKernel);
    expect([leadingAxes([0, 1], 4), leadingAxes(0, 2), leadingAxes([1], 3), leadingAxes([0, 1, 2], 3), leadingAxes([-2, 0], 3)]).toEqual([2, 1, null, null, 2]);
  });

  it('replaces the stock kernel and can restore it', () => {
    const stock = tf.getKernel('Conv2DBackpropInput', 'wasm').kernelFunc;
    registerFastWasmConvKernels();
    registerFastWasmConvKernels();
    const fast = tf.getKernel('Conv2DBackpropInput', 'wasm').kernelFunc;
    expect(fast).not.toBe(stock);
    unregisterFastWasmConvKernels();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm').kernelFunc).toBe(stock);
  });

  // Each case with the phases stacked in one conv, run as separate convs, and as chosen ('auto').
  for (const mode of ['auto', 'always', 'never'] as const) {
    for (const c of cases) {
      it(`matches the stock wasm kernel and cpu (phases ${mode === 'auto' ? 'as chosen' : mode === 'always' ? 'split' : 'stacked'}): ${c.name}`, () => {
        unregisterFastWasmConvKernels();
        const stock = compute(c);
        registerFastWasmConvKernels();
        setPhaseSplit(mode);
        try {
          const tensorsBefore = tf.memory().numTensors;
          const idsBefore = wasmDataIds();
          const fast = compute(c);
          expect(tf.memory().numTensors).toBe(tensorsBefore);
          expect(wasmDataIds()).toBe(idsBefore);
          const ref = cpu.get(c.name)!;
          expect(fast.transpose.length).toBe(tf.util.sizeFromShape(c.x));
          expect(maxRelErr(fast.transpose, stock.transpose)).toBeLessThan(1e-5);
          expect(maxRelErr(fast.inputGrad, stock.inputGrad)).toBeLessThan(1e-5);
          expect(maxRelErr(fast.transpose, ref.transpose)).toBeLessThan(1e-5);
          expect(maxRelErr(fast.inputGrad, ref.inputGrad)).toBeLessThan(1e-5);
        } finally {
          setPhaseSplit('auto');
          unregisterFastWasmConvKernels();
        }
      });
    }
  }

  it('does not leak over repeated calls', () => {
    registerFastWasmConvKernels();
    try {
      const c = cases.find((k) => k.name.startsWith('2x2 s2 same'))!;
      compute(c);
      const tensorsBefore = tf.memory().numTensors;
      const idsBefore = wasmDataIds();
      for (let i = 0; i < 5; i++) compute(c);
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      expect(wasmDataIds()).toBe(idsBefore);
    } finally {
      unregisterFastWasmConvKernels();
    }
  });

  it('trains a conv autoencoder to the same losses with and without the fast kernels', () => {
    const stock = trainLosses(STEPS);
    registerFastWasmConvKernels();
    registerFastWasmSum();
    registerSharedWasmIdentity();
    let fast: number[];
    try {
      fast = trainLosses(STEPS);
    } finally {
      unregisterFastWasmConvKernels();
      unregisterFastWasmSum();
      unregisterSharedWasmIdentity();
    }
    expect(fast[STEPS - 1]!).toBeLessThan(fast[0]! * 0.95);
    for (let i = 0; i < STEPS; i++) {
      expect(Math.abs(fast[i]! - stock[i]!) / stock[i]!).toBeLessThan(1e-4);
      expect(Math.abs(fast[i]! - cpuLosses[i]!) / cpuLosses[i]!).toBeLessThan(1e-3);
    }
  });
});
