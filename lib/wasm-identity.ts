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
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { wasmKernelOverride } from './wasm-override.ts';

function identityShared(args: { inputs: { x: tf.TensorInfo }; backend: BackendWasm }): tf.TensorInfo {
  const { inputs: { x }, backend } = args;
  if (x.dtype === 'string') return identity.stock().kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const identity = wasmKernelOverride(tf.Identity, identityShared as unknown as tf.KernelFunc);

/** Puts the zero-copy Identity in place of the stock wasm kernel. Idempotent. */
export const registerSharedWasmIdentity = identity.register;
/** Restores the stock kernel (for side-by-side checks). */
export const unregisterSharedWasmIdentity = identity.unregister;
