/**
 * Puts a kernel of ours in front of a stock wasm kernel, keeping the stock one
 * as the fallback (and for side-by-side checks). The stock kernel's setupFunc
 * still runs, so its wasm bindings exist when we delegate to it.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface KernelOverride {
  /** Registers ours; idempotent. */
  register(): void;
  /** Restores the stock kernel. */
  unregister(): void;
  /** The stock kernel while ours is registered. */
  stock(): tf.KernelConfig;
}

export function wasmKernelOverride(kernelName: string, kernelFunc: tf.KernelFunc): KernelOverride {
  let stock: tf.KernelConfig | undefined;
  return {
    register() {
      if (stock !== undefined) return;
      const original = tf.getKernel(kernelName, 'wasm');
      if (!original) throw new Error(`wasm ${kernelName} kernel is not registered`);
      stock = original;
      tf.unregisterKernel(kernelName, 'wasm');
      tf.registerKernel({ kernelName, backendName: 'wasm', setupFunc: original.setupFunc, kernelFunc });
    },
    unregister() {
      if (stock === undefined) return;
      tf.unregisterKernel(kernelName, 'wasm');
      tf.registerKernel(stock);
      stock = undefined;
    },
    stock() {
      if (stock === undefined) throw new Error(`our wasm ${kernelName} kernel is not registered`);
      return stock;
    },
  };
}
