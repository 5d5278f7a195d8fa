/**
 * The browser's tfjs: core + layers, and one backend loaded on demand. Each
 * backend is its own chunk, so a visitor with WebGL never downloads the
 * WebAssembly or CPU kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backendOrder, webglProblem, type BackendName, type BackendRequest } from './backend-choice.ts';

/** Served by the build (astro.config.mjs copies them from @tensorflow/tfjs-backend-wasm). */
export const WASM_PATH = '/tfjs-wasm/';

export interface BackendOutcome {
  used: BackendName;
  failed: { name: BackendName; reason: string }[];
}

async function register(name: BackendName): Promise<void> {
  if (name === 'webgl') {
    const problem = webglProblem();
    if (problem) throw new Error(problem);
    await import('@tensorflow/tfjs-backend-webgl');
  } else if (name === 'wasm') {
    const [wasm, fastConv] = await Promise.all([import('@tensorflow/tfjs-backend-wasm'), import('../../../lib/wasm-fast-conv.ts')]);
    wasm.setWasmPaths(WASM_PATH);
    // The stock transposed convolution is a scalar loop; this routes it through XNNPACK (the decoder is mostly transposed convolutions).
    fastConv.registerFastWasmConvKernels();
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
}

/** Loads, registers and switches to one backend; throws with the reason if it cannot run here. */
export async function activateBackend(name: BackendName): Promise<void> {
  await register(name);
  if (!(await tf.setBackend(name))) throw new Error('it failed to initialise');
  await tf.ready();
}

/**
 * Starts the first backend that works, in the order the request implies,
 * skipping those already known not to work here (`blocked`, with reasons).
 */
export async function startBackend(request: BackendRequest, blocked: BackendOutcome['failed'] = []): Promise<BackendOutcome> {
  const failed: BackendOutcome['failed'] = [...blocked];
  for (const name of backendOrder(request)) {
    if (blocked.some((b) => b.name === name)) continue;
    try {
      await activateBackend(name);
      return { used: name, failed };
    } catch (e) {
      failed.push({ name, reason: (e as Error).message || String(e) });
    }
  }
  throw new Error(`no tfjs backend could start: ${failed.map((f) => `${f.name}: ${f.reason}`).join('; ')}`);
}

export { tf };
