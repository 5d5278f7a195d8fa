/**
 * The browser's tfjs: core + layers, and one backend loaded on demand. Each
 * backend is its own chunk, so a visitor with WebGL never downloads the
 * WebAssembly or CPU kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backendOrder, type BackendName, type BackendRequest } from './backend-choice.ts';

/** Served by the build (astro.config.mjs copies them from @tensorflow/tfjs-backend-wasm). */
export const WASM_PATH = '/tfjs-wasm/';

export interface BackendOutcome {
  used: BackendName;
  failed: { name: BackendName; reason: string }[];
}

function webglProblem(): string | null {
  try {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
    if (!gl) return 'this browser gives no WebGL context';
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return null;
  } catch (e) {
    return (e as Error).message || 'WebGL failed to start';
  }
}

async function register(name: BackendName): Promise<void> {
  if (name === 'webgl') {
    const problem = webglProblem();
    if (problem) throw new Error(problem);
    await import('@tensorflow/tfjs-backend-webgl');
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(WASM_PATH);
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
}

/** Starts the first backend that works, in the order the request implies. */
export async function startBackend(request: BackendRequest): Promise<BackendOutcome> {
  const failed: BackendOutcome['failed'] = [];
  for (const name of backendOrder(request)) {
    try {
      await register(name);
      if (!(await tf.setBackend(name))) throw new Error('it failed to initialise');
      await tf.ready();
      return { used: name, failed };
    } catch (e) {
      failed.push({ name, reason: (e as Error).message || String(e) });
    }
  }
  throw new Error(`no tfjs backend could start: ${failed.map((f) => `${f.name}: ${f.reason}`).join('; ')}`);
}

export { tf };
