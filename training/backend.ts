/**
 * Chooses the fastest tfjs backend this machine can run, in the order
 * tfjs-node-gpu > tfjs-node > wasm > cpu. The native packages are optional
 * peers: when one is missing or broken the next is tried, with a one-line
 * reason, never a crash.
 */
import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import { registerWasmFilterGradients } from '../lib/wasm-filter-grad.ts';
import { registerFastWasmSum } from '../lib/wasm-fast-sum.ts';
import { registerSharedWasmIdentity } from '../lib/wasm-identity.ts';

export type BackendChoice = 'auto' | 'gpu' | 'node' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** What the manifest records: "tensorflow-gpu", "tensorflow", "wasm", "wasm-simd-2threads", "cpu". */
  name: string;
  detail: string;
  notes: string[];
}

async function tryNative(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<string | null> {
  try {
    await import(/* @vite-ignore */ pkg);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0] ?? String(e);
    return (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(msg)
      ? `${pkg} is not installed`
      : `${pkg} failed to load: ${msg}`;
  }
  try {
    if (!(await tf.setBackend('tensorflow'))) return `${pkg} loaded but its backend did not initialise`;
    // A tiny op proves the native library really runs (a broken CUDA set-up fails here).
    tf.tidy(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync());
    return null;
  } catch (e) {
    return `${pkg} is installed but does not run: ${(e as Error).message.split('\n')[0]}`;
  }
}

interface WasmInit {
  threads: number;
  simd: boolean;
  note?: string;
}

/** Sets up wasm: fast kernels and threads when training/wasm provides them, the filter gradient always. */
async function tryWasm(threads: number): Promise<{ error: string } | { info: BackendInfo }> {
  const notes: string[] = [];
  let init: WasmInit | null = null;
  try {
    const threading = await import('./wasm/threads.ts').catch(() => null);
    if (threading?.initWasmBackend) {
      init = (await threading.initWasmBackend({ threads })) as WasmInit;
      if (init.note) notes.push(init.note);
    } else {
      await import('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) return { error: 'the wasm backend did not initialise' };
    }
  } catch (e) {
    return { error: `the wasm backend failed: ${(e as Error).message}` };
  }
  registerWasmFilterGradients();
  registerFastWasmSum();
  registerSharedWasmIdentity();
  const fast = await import('../lib/wasm-fast-conv.ts').catch(() => null);
  if (fast?.registerFastWasmConvKernels) {
    fast.registerFastWasmConvKernels();
    notes.push('conv2dTranspose routed through XNNPACK; bias gradients summed in place; Identity shares data');
  }
  const t = init?.threads ?? 1;
  const name = `wasm${init?.simd ? '-simd' : ''}${t > 1 ? `-${t}threads` : ''}`;
  return { info: { name, detail: `WebAssembly (${init?.simd ? 'SIMD' : 'no SIMD'}, ${t} thread${t > 1 ? 's' : ''})`, notes } };
}

export async function selectBackend(choice: BackendChoice = 'auto', threads = availableParallelism()): Promise<BackendInfo> {
  const reasons: string[] = [];
  if (choice === 'auto' || choice === 'gpu') {
    const why = await tryNative('@tensorflow/tfjs-node-gpu');
    if (!why) return { name: 'tensorflow-gpu', detail: 'TensorFlow C library with CUDA (tfjs-node-gpu)', notes: [] };
    if (choice === 'gpu') throw new Error(`--backend gpu: ${why}. See docs/training.md, "Training on a GPU".`);
    reasons.push(why);
  }
  if (choice === 'auto' || choice === 'node') {
    const why = await tryNative('@tensorflow/tfjs-node');
    if (!why) return { name: 'tensorflow', detail: 'TensorFlow C library on the CPU (tfjs-node)', notes: reasons };
    if (choice === 'node') throw new Error(`--backend node: ${why}.`);
    reasons.push(why);
  }
  if (choice === 'auto' || choice === 'wasm') {
    const r = await tryWasm(threads);
    if ('info' in r) return { ...r.info, notes: [...reasons, ...r.info.notes] };
    if (choice === 'wasm') throw new Error(`--backend wasm: ${r.error}`);
    reasons.push(r.error);
  }
  await tf.setBackend('cpu');
  const warn = choice === 'cpu' ? [] : ['WARNING: training on the pure-JS cpu backend is about 100x slower than wasm'];
  return { name: 'cpu', detail: 'pure JavaScript (tfjs cpu)', notes: [...reasons, ...warn] };
}
