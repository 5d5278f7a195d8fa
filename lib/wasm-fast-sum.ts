/**
 * A Sum over the leading axes of a float32 tensor for the wasm backend.
 *
 * Every convolution's bias gradient is sum(dy, [0, 1, 2]) of an NHWC tensor:
 * one total per channel. The stock wasm kernel only reduces innermost axes,
 * so it first transposes the whole of dy to [C, B*H*W] (a strided scalar
 * copy) and then sums rows; at batch 128 on the digits model that was about
 * 7% of a training step and 9% with two threads (the transpose does not
 * use the thread pool). Reading the rows in place and adding each into a
 * running per-channel total does the same in one pass.
 *
 * Other reductions (innermost axes, non-float32 inputs) go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { wasmKernelOverride } from './wasm-override.ts';

type TensorInfo = tf.TensorInfo;
type KernelArgs = { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: { axis: number | number[]; keepDims: boolean } };


/** The reduced axes when they are exactly 0..k-1 with k < rank, else null. */
export function leadingAxes(axis: number | number[], rank: number): number | null {
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
  if (axes.length === 0 || axes.length >= rank) return null;
  return axes.every((a, i) => a === i) ? axes.length : null;
}

function sumLeading(args: KernelArgs): TensorInfo {
  const { inputs: { x }, backend, attrs } = args;
  const k = x.dtype === 'float32' ? leadingAxes(attrs.axis, x.shape.length) : null;
  if (k === null) return sum.stock().kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
  const rows = x.shape.slice(0, k).reduce((n, d) => n * d, 1);
  const inner = x.shape.slice(k);
  const cols = inner.reduce((n, d) => n * d, 1);
  const outShape = attrs.keepDims ? [...x.shape.slice(0, k).map(() => 1), ...inner] : inner;
  const acc = new Float64Array(cols);
  if (rows * cols > 0) {
    const src = backend.typedArrayFromHeap(x) as Float32Array;
    for (let r = 0, base = 0; r < rows; r++, base += cols) {
      for (let c = 0; c < cols; c++) acc[c]! += src[base + c]!;
    }
  }
  const out = backend.makeOutput(outShape, 'float32');
  // Read the heap only after makeOutput: allocating may grow (and move) it.
  (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
}

const sum = wasmKernelOverride(tf.Sum, sumLeading as unknown as tf.KernelFunc);

/** Puts the leading-axes Sum in front of the stock wasm kernel. Idempotent. */
export const registerFastWasmSum = sum.register;
/** Restores the stock kernel (for side-by-side checks). */
export const unregisterFastWasmSum = sum.unregister;
