/**
 * A zero-copy Identity for the tfjs wasm backend.
 *
 * The stock wasm Identity allocates a new buffer and copies the whole tensor;
 * the cpu and webgl backends share the data and count one more reference,
 * as wasm's own Reshape does. Autodiff calls Identity on whole activations
 * (about 3% of a digits training step at batch 128 went to these copies).
 * Sharing is safe because wasm kernels never write into their inputs: each
 * writes a fresh output from makeOutput, and disposal is reference-counted.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

let stock: tf.KernelConfig | undefined;

function identityShared(args: { inputs: { x: tf.TensorInfo }; backend: BackendWasm }): tf.TensorInfo {
  const { inputs: { x }, backend } = args;
  if (x.dtype === 'string') return stock!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Puts the zero-copy Identity in place of the stock wasm kernel. Idempotent. */
export function registerSharedWasmIdentity(): void {
  if (stock !== undefined) return;
  const original = tf.getKernel(tf.Identity, 'wasm');
  if (!original) throw new Error('wasm Identity kernel is not registered');
  stock = original;
  tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel({ kernelName: tf.Identity, backendName: 'wasm', setupFunc: original.setupFunc, kernelFunc: identityShared as unknown as tf.KernelFunc });
}

/** Restores the stock kernel (for side-by-side checks). */
export function unregisterSharedWasmIdentity(): void {
  if (stock === undefined) return;
  tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel(stock);
  stock = undefined;
}
