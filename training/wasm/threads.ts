/**
 * Node start-up of the tfjs wasm backend with SIMD and, where it works, a
 * multi-threaded XNNPACK pool.
 *
 * The stock backend refuses threads under Node (WASM_HAS_MULTITHREAD_SUPPORT is
 * hard-wired to false there) and, in the browser path, hands emscripten Blob
 * URLs for the pthread worker and main script, which Node's worker_threads
 * cannot load. We therefore build the emscripten module ourselves: the
 * threaded-SIMD factory is `require`d from disk (so its own __filename serves
 * as the main script the workers re-evaluate), and the worker bootstrap, which
 * the package only ships as a JS string, is written once to a temp .cjs file.
 * The resulting module is handed to the package's own BackendWasm class, so all
 * registered wasm kernels work unchanged.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

export interface WasmInitResult {
  threads: number;
  simd: boolean;
  note?: string;
}

/** Emscripten module as seen by BackendWasm (only what we touch here). */
interface EmscriptenModule {
  cwrap: (name: string, ret: string | null, args: string[]) => (...a: unknown[]) => unknown;
  tfjs?: Record<string, unknown>;
}
type WasmImports = Record<string, Record<string, unknown>> & { env: Record<string, unknown> };
type ModuleFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

const require = createRequire(import.meta.url);
const WASM_OUT = '@tensorflow/tfjs-backend-wasm/wasm-out/';
const THREADED_NAME = 'tfjs-backend-wasm-threaded-simd';
const WASM_PRIORITY = 2;
/** A pool that never signals "loaded" must not hang start-up forever. */
const INIT_TIMEOUT_MS = 30_000;

/**
 * Writes the pthread worker bootstrap to a content-addressed temp file and
 * returns its path. The .cjs extension keeps `require` available inside the
 * worker even if a parent package.json says "type": "module".
 */
function materialiseWorkerScript(): string {
  const { wasmWorkerContents } = require(`${WASM_OUT}${THREADED_NAME}.worker.js`) as {
    wasmWorkerContents: string;
  };
  // The package stores the script in a template literal, which turned the
  // `"\n"` escapes of its string literals into raw newlines; undo that as
  // backend_wasm.js does before it makes its Blob.
  const script = wasmWorkerContents.replace(/\n/g, '\\n');
  const hash = createHash('sha256').update(script).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `${THREADED_NAME}-${hash}.worker.cjs`);
  if (!existsSync(file)) {
    // Write-then-rename so concurrent processes never see a half-written file.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, script);
    renameSync(tmp, file);
  }
  return file;
}

/** Adds the `tfjs` bridge that backend_wasm.js `init()` would have attached. */
function attachTfjsBridge(module: EmscriptenModule): EmscriptenModule {
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/** Receives errors thrown inside pthread workers of the module being built. */
let onWorkerError: (err: unknown) => void = () => {};
/** Workers spawned for the module being built, to stop them if it fails. */
let spawned: NodeWorker[] = [];

/**
 * worker_threads.Worker adapted for emscripten's pthread pool:
 * - `execArgv: []` so workers do not inherit loader hooks of the parent
 *   (tsx, vitest), which choke on the plain-CJS worker bootstrap;
 * - emscripten's 'error' handler rethrows, which would kill the process from
 *   an event callback; we route it to the pending init instead;
 * - emscripten ref()s a worker while it runs a pthread, and XNNPACK's pool
 *   threads run forever, so the process would never exit. Every wasm call is
 *   synchronous on the main thread, so no pthread ever has work the process
 *   must stay alive for: the workers stay unref'd.
 */
class PthreadWorker extends NodeWorker {
  constructor(file: string | URL, options?: WorkerOptions) {
    super(file, { ...options, execArgv: [] });
    spawned.push(this);
  }

  override ref(): void {
    this.unref();
  }

  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    if (event !== 'error') return super.on(event, listener);
    return super.on(event, (e: unknown) => {
      try {
        listener(e);
      } catch (err) {
        onWorkerError(err);
      }
    });
  }
}

/**
 * Emscripten assigns `global.Worker = worker_threads.Worker` when it loads and
 * resolves `Worker` lazily whenever it grows the pool, so a plain assignment
 * would be overwritten; an accessor that ignores writes keeps ours in place.
 */
function installPthreadWorker(): void {
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => PthreadWorker,
    set: () => {},
  });
}

/**
 * Emscripten's Node glue adds process-wide 'uncaughtException' and
 * 'unhandledRejection' listeners that rethrow; they change how the host
 * process (e.g. a test runner) handles errors, so we drop them.
 */
async function withoutProcessListeners<T>(fn: () => Promise<T>): Promise<T> {
  const emitter = process as unknown as NodeJS.EventEmitter;
  const events = ['uncaughtException', 'unhandledRejection'];
  const before = events.map((e) => new Set(emitter.listeners(e)));
  try {
    return await fn();
  } finally {
    events.forEach((e, i) => {
      for (const l of emitter.listeners(e)) {
        if (!before[i]!.has(l)) emitter.removeListener(e, l as (...args: unknown[]) => void);
      }
    });
  }
}

/**
 * Instantiates the threaded-SIMD emscripten module with Node-loadable workers
 * and room for `threads` XNNPACK threads.
 */
async function createThreadedModule(threads: number): Promise<EmscriptenModule> {
  const factory = require(`${WASM_OUT}${THREADED_NAME}.js`) as ModuleFactory;
  const workerFile = materialiseWorkerScript();
  const mainScript = require.resolve(`${WASM_OUT}${THREADED_NAME}.js`);
  const wasmFile = require.resolve(`${WASM_OUT}${THREADED_NAME}.wasm`);
  installPthreadWorker();
  let abortReason: string | undefined;
  let fail: (err: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = (err) => reject(err instanceof Error ? err : new Error(String(err)));
    const t = setTimeout(
      () => reject(new Error(abortReason ?? `threaded wasm init timed out after ${INIT_TIMEOUT_MS} ms`)),
      INIT_TIMEOUT_MS,
    );
    t.unref();
  });
  failed.catch(() => {});
  onWorkerError = fail;
  spawned = [];
  const ready = factory({
    mainScriptUrlOrBlob: mainScript,
    locateFile: (file: string, prefix: string) => (file.endsWith('.worker.js') ? workerFile : prefix + file),
    instantiateWasm: (info: WasmImports, receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) => {
      // backend.cc caps the pool at emscripten_num_logical_cores()/2 (it
      // assumes hyper-threading), i.e. 1 thread on a 2-core box; report twice
      // the requested count so the cap lands exactly on it.
      const env = { ...info.env, emscripten_num_logical_cores: () => 2 * threads };
      WebAssembly.instantiate(readFileSync(wasmFile), { ...info, env }).then(
        ({ instance, module }) => receive(instance, module),
        fail,
      );
      return {};
    },
    onAbort: (what: unknown) => {
      abortReason = String(what);
    },
  });
  try {
    return attachTfjsBridge(await Promise.race([ready, failed]));
  } catch (e) {
    // Workers still loading are ref'd and would keep the process alive.
    for (const w of spawned) void w.terminate();
    throw e;
  }
}

/** Instantiates the single-threaded module, SIMD or plain. */
async function createSingleThreadModule(simd: boolean): Promise<EmscriptenModule> {
  const factory = require(`${WASM_OUT}tfjs-backend-wasm.js`) as ModuleFactory;
  const binary = require.resolve(`${WASM_OUT}tfjs-backend-wasm${simd ? '-simd' : ''}.wasm`);
  return attachTfjsBridge(
    await factory({
      locateFile: (file: string, prefix: string) => (file.endsWith('.wasm') ? binary : prefix + file),
    }),
  );
}

/**
 * Replaces the 'wasm' backend factory and activates it. Returns an error
 * message instead of throwing so callers can fall back.
 */
async function activate(make: () => Promise<EmscriptenModule>, threads: number): Promise<string | undefined> {
  if (tf.findBackendFactory('wasm') != null) tf.removeBackend('wasm');
  let failure: string | undefined;
  tf.registerBackend(
    'wasm',
    async () => {
      setThreadsCount(threads);
      try {
        // BackendWasm's constructor calls init_with_threads_count on the module.
        return new BackendWasm((await withoutProcessListeners(make)) as never);
      } catch (e) {
        failure = e instanceof Error ? e.message : String(e);
        throw e;
      }
    },
    WASM_PRIORITY,
  );
  const ok = await silenceEngineWarnings(() => tf.setBackend('wasm'));
  return ok ? undefined : (failure ?? 'tf.setBackend("wasm") returned false');
}

/** The engine console.warns on failed backend init; we report it ourselves. */
async function silenceEngineWarnings<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

/** Number of XNNPACK threads the live wasm backend actually runs with. */
function liveThreadsCount(): number {
  const backend = tf.backend() as unknown as { wasm: { tfjs: { getThreadsCount: () => number } } };
  return backend.wasm.tfjs.getThreadsCount();
}

/**
 * Registers and initialises the wasm backend for Node with SIMD and the
 * requested number of XNNPACK threads (default: all available cores; tfjs
 * caps it at 8), then makes it the active backend. Falls back to a single
 * thread, with a one-line reason in `note`, when the threaded module cannot
 * start. Replaces any wasm backend already initialised (its tensors are lost),
 * so call it before building models.
 */
export async function initWasmBackend(opts: { threads?: number } = {}): Promise<WasmInitResult> {
  const requested = Math.max(1, Math.floor(opts.threads ?? os.availableParallelism()));
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  const notes: string[] = [];
  if (!simd) notes.push('no WebAssembly SIMD in this Node, using the plain wasm binary on 1 thread');
  if (requested > 1 && simd) {
    const err = await activate(() => createThreadedModule(requested), requested);
    if (err === undefined) return { threads: liveThreadsCount(), simd: true };
    notes.push(`threaded wasm unavailable, using 1 thread: ${err.split('\n')[0]}`);
  }
  const err = await activate(() => createSingleThreadModule(simd), 1);
  if (err !== undefined) throw new Error(`wasm backend failed to initialise: ${err}`);
  return notes.length === 0 ? { threads: 1, simd } : { threads: 1, simd, note: notes.join('; ') };
}
