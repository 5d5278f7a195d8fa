/**
 * Training-step throughput (forward + backward + Adam) of conv VAEs on the
 * tfjs wasm backend in Node, with and without training/wasm's fast kernels
 * and XNNPACK threads, next to PyTorch on the same CPU.
 *
 *   npx tsx bench/wasm-train.ts [--quick] [--no-torch] [--models mnist,faces] [--batches 64,128]
 *
 * The machine may be busy (a training run in the background), so configs
 * whose ratio matters are interleaved round by round in the same process:
 * phase 1 (single-threaded SIMD module) alternates the stock and the fast
 * Conv2DBackpropInput; phase 2 (threaded SIMD module) alternates one and two
 * XNNPACK threads with the fast kernels. Each figure is the best round.
 * Results go to bench/results/wasm-train.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { registerFastWasmConvKernels as registerConv, unregisterFastWasmConvKernels as unregisterConv } from '../lib/wasm-fast-conv.ts';
import { registerFastWasmSum, unregisterFastWasmSum } from '../lib/wasm-fast-sum.ts';
import { registerSharedWasmIdentity, unregisterSharedWasmIdentity } from '../lib/wasm-identity.ts';
import { registerWasmFilterGradients } from '../lib/wasm-filter-grad.ts';
import { initWasmBackend, type WasmInitResult } from '../training/wasm/threads.ts';
import { buildVae, facesArchitecture } from '../lib/vae-model.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';

/** The project's fast wasm kernels (XNNPACK transposed conv, in-place bias-gradient sums, zero-copy Identity), on or off together. */
function registerFastWasmConvKernels(): void {
  registerConv();
  registerFastWasmSum();
  registerSharedWasmIdentity();
}

function unregisterFastWasmConvKernels(): void {
  unregisterConv();
  unregisterFastWasmSum();
  unregisterSharedWasmIdentity();
}

type ModelName = 'mnist' | 'faces';
type ConfigName = 'wasm 1t stock' | 'wasm 1t fast' | 'wasm 2t fast' | 'wasm 1t fast (threaded build)';

interface Options {
  models: ModelName[];
  batches: number[];
  warmupS: number;
  seconds: number;
  rounds: number;
  torch: boolean;
}

interface Vae {
  encoder: tf.LayersModel;
  /** Outputs logits; the loss applies the sigmoid (stable BCE). */
  decoder: tf.LayersModel;
  imageShape: [number, number, number];
  latent: number;
}

interface Measurement {
  model: ModelName;
  batch: number;
  config: ConfigName;
  imagesPerSecond: number;
  rounds: number[];
}

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const value = (flag: string, fallback: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
  };
  return {
    models: value('--models', 'mnist,faces').split(',') as ModelName[],
    batches: value('--batches', '64,128').split(',').map(Number),
    warmupS: quick ? 1 : 2,
    seconds: quick ? 1.5 : 3,
    rounds: quick ? 1 : 2,
    torch: !argv.includes('--no-torch'),
  };
}

function glorot(seed: number) {
  return tf.initializers.glorotUniform({ seed });
}

/** FIDLE's MNIST VAE: 28x28x1, latent 2. */
function buildMnistVae(): Vae {
  let seed = 1;
  const conv = (filters: number, strides: number) =>
    tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', activation: 'relu', kernelInitializer: glorot(seed++) });
  const deconv = (filters: number, strides: number, activation: 'relu' | 'linear' = 'relu') =>
    tf.layers.conv2dTranspose({ filters, kernelSize: 3, strides, padding: 'same', activation, kernelInitializer: glorot(seed++) });
  const x = tf.input({ shape: [28, 28, 1] });
  let h = conv(32, 1).apply(x);
  h = conv(64, 2).apply(h);
  h = conv(64, 2).apply(h);
  h = conv(64, 1).apply(h);
  h = tf.layers.flatten().apply(h);
  h = tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: glorot(seed++) }).apply(h);
  const zMean = tf.layers.dense({ units: 2, kernelInitializer: glorot(seed++) }).apply(h) as tf.SymbolicTensor;
  const zLogVar = tf.layers.dense({ units: 2, kernelInitializer: glorot(seed++) }).apply(h) as tf.SymbolicTensor;
  const z = tf.input({ shape: [2] });
  let d = tf.layers.dense({ units: 7 * 7 * 64, activation: 'relu', kernelInitializer: glorot(seed++) }).apply(z);
  d = tf.layers.reshape({ targetShape: [7, 7, 64] }).apply(d);
  d = deconv(64, 1).apply(d);
  d = deconv(64, 2).apply(d);
  d = deconv(32, 2).apply(d);
  d = deconv(1, 1, 'linear').apply(d);
  return {
    encoder: tf.model({ inputs: x, outputs: [zMean, zLogVar] }),
    decoder: tf.model({ inputs: z, outputs: d as tf.SymbolicTensor }),
    imageShape: [28, 28, 1],
    latent: 2,
  };
}

/** The shipped faces VAE (lib/vae-model.ts): 64x64x3, four 4x4 stride-2 convs 32/64/128/128, latent 64, mirrored decoder, no batch norm. */
function buildFacesVae(): Vae {
  const image = { height: 64, width: 64, channels: 3 };
  const m = buildVae(image, 64, facesArchitecture(image, [32, 64, 128, 128]), 100);
  return { encoder: m.encoder, decoder: m.decoderLogits, imageShape: [64, 64, 3], latent: 64 };
}

const BUILDERS: Record<ModelName, () => Vae> = { mnist: buildMnistVae, faces: buildFacesVae };

/** Negative ELBO per image (BCE from logits summed over pixels + KL), averaged over the batch. */
function vaeLoss(vae: Vae, x: tf.Tensor4D): tf.Scalar {
  const [mean, logVar] = vae.encoder.apply(x, { training: true }) as [tf.Tensor2D, tf.Tensor2D];
  const z = tf.add(mean, tf.mul(tf.exp(tf.mul(0.5, logVar)), tf.randomNormal(mean.shape)));
  const logits = vae.decoder.apply(z, { training: true }) as tf.Tensor4D;
  const bce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
  const rec = tf.sum(tf.reshape(bce, [x.shape[0], -1]), 1);
  const kl = tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, logVar), tf.square(mean)), tf.exp(logVar)), 1));
  return tf.mean(tf.add(rec, kl)) as tf.Scalar;
}

/** A ready-to-run training step on a fixed random binary batch, and its clean-up. */
function trainingStep(model: ModelName, batch: number): { step: () => void; dispose: () => void } {
  const vae = BUILDERS[model]();
  const opt = tf.train.adam(1e-3);
  const x = tf.tidy(() => tf.round(tf.randomUniform([batch, ...vae.imageShape], 0, 1, 'float32', 7))) as tf.Tensor4D;
  return {
    step: () => {
      const loss = opt.minimize(() => vaeLoss(vae, x), true)!;
      loss.dataSync();
      loss.dispose();
    },
    dispose: () => {
      x.dispose();
      opt.dispose();
      vae.encoder.dispose();
      vae.decoder.dispose();
    },
  };
}

/** Images per second of `step` over about `seconds` (at least one step), after a warm-up of at least one step. */
function imagesPerSecond(step: () => void, batch: number, warmupS: number, seconds: number): number {
  const warmEnd = performance.now() + warmupS * 1000;
  do step();
  while (performance.now() < warmEnd);
  let steps = 0;
  const start = performance.now();
  while (steps < 1 || performance.now() - start < seconds * 1000) {
    step();
    steps++;
  }
  return (batch * steps * 1000) / (performance.now() - start);
}

interface ThreadedModule {
  tfjs: { initWithThreadsCount(n: number): void; getThreadsCount(): number };
  PThread: {
    unusedWorkers: unknown[];
    allocateUnusedWorker(): void;
    loadWasmModuleToWorker(worker: unknown, onLoaded: () => void): void;
  };
}

/**
 * Resizes the XNNPACK pool of the live threaded wasm module, so 1 and 2
 * threads can be compared side by side. Each call builds a new pool and the
 * old one idles, holding its workers; pthreadpool_create blocks the main
 * thread until its workers check in, and a worker emscripten creates on
 * demand can only start once the main thread is free again, so spare
 * workers are loaded beforehand.
 */
async function setXnnpackThreads(n: number): Promise<void> {
  const wasm = (tf.backend() as unknown as { wasm: ThreadedModule }).wasm;
  if (wasm.tfjs.getThreadsCount() === n) return;
  const pool = wasm.PThread;
  while (pool.unusedWorkers.length < n - 1) {
    pool.allocateUnusedWorker();
    const worker = pool.unusedWorkers[pool.unusedWorkers.length - 1];
    await new Promise<void>((resolve) => pool.loadWasmModuleToWorker(worker, resolve));
  }
  wasm.tfjs.initWithThreadsCount(n);
  if (wasm.tfjs.getThreadsCount() !== n) throw new Error(`asked XNNPACK for ${n} threads, got ${wasm.tfjs.getThreadsCount()}`);
}

/** Measures configs round-robin on one model instance; `enter` switches to a config. */
async function interleaved(
  opts: Options,
  model: ModelName,
  batch: number,
  configs: { name: ConfigName; enter: () => void | Promise<void> }[],
): Promise<Measurement[]> {
  const { step, dispose } = trainingStep(model, batch);
  const rounds = new Map<ConfigName, number[]>(configs.map((c) => [c.name, []]));
  try {
    for (let r = 0; r < opts.rounds; r++) {
      for (const c of configs) {
        await c.enter();
        const ips = imagesPerSecond(step, batch, r === 0 ? opts.warmupS : 0.5, opts.seconds);
        rounds.get(c.name)!.push(ips);
        console.error(`  ${model} b${batch} ${c.name}: ${ips.toFixed(1)} img/s`);
      }
    }
  } finally {
    dispose();
    unregisterFastWasmConvKernels();
  }
  return configs.map((c) => {
    const all = rounds.get(c.name)!;
    return { model, batch, config: c.name, imagesPerSecond: Math.max(...all), rounds: all };
  });
}

interface TorchResult {
  torch: string;
  threads: number;
  results: Record<string, Record<string, number>>;
}

/**
 * Runs bench/torch_vae.py. OMP_WAIT_POLICY=PASSIVE: with a core taken by
 * another process, spinning OpenMP barriers make 2-thread torch several times
 * slower than 1 thread; passive waiting is the fair setting on a shared box.
 */
function runTorch(opts: Options): TorchResult | { error: string } {
  if (!existsSync(PYTHON)) return { error: `${PYTHON} not found` };
  const r = spawnSync(
    PYTHON,
    [
      path.join(HERE, 'torch_vae.py'),
      '--models', opts.models.join(','),
      '--batches', opts.batches.join(','),
      '--warmup', String(opts.warmupS),
      '--seconds', String(opts.seconds),
    ],
    { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' }, timeout: 30 * 60_000 },
  );
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'failed').trim().split('\n').pop()! };
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchResult;
  } catch {
    return { error: `unparseable output: ${r.stdout.slice(0, 200)}` };
  }
}

function table(results: Measurement[], torch: TorchResult | { error: string } | null, opts: Options): string {
  const configs: ConfigName[] = ['wasm 1t stock', 'wasm 1t fast', 'wasm 1t fast (threaded build)', 'wasm 2t fast'];
  const cols = [...configs, ...(torch && 'results' in torch ? ['pytorch 2t'] : [])];
  const lines = [['model', 'batch', ...cols].join(' | ')];
  for (const model of opts.models) {
    for (const batch of opts.batches) {
      const ref = torch && 'results' in torch ? torch.results[model]?.[String(batch)] : undefined;
      const cells = configs.map((c) => {
        const m = results.find((r) => r.model === model && r.batch === batch && r.config === c);
        if (!m) return '-';
        return ref ? `${m.imagesPerSecond.toFixed(1)} (${(m.imagesPerSecond / ref).toFixed(2)}x torch)` : m.imagesPerSecond.toFixed(1);
      });
      if (ref !== undefined) cells.push(ref.toFixed(1));
      lines.push([model, String(batch), ...cells].join(' | '));
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const loadBefore = os.loadavg();
  const results: Measurement[] = [];
  const fast = { name: 'wasm 1t fast' as const, enter: registerFastWasmConvKernels };

  const failures: { model: ModelName; batch: number; phase: number; error: string }[] = [];
  /** Runs one phase over all models and batches; a failed block (e.g. wasm out of memory) is recorded and skipped. */
  const phase = async (n: number, threads: number, configs: Parameters<typeof interleaved>[3]) => {
    const init = await initWasmBackend({ threads });
    registerWasmFilterGradients();
    console.error(`phase ${n}: ${JSON.stringify(init)}`);
    if (init.threads !== threads) return init;
    for (const model of opts.models) {
      for (const batch of opts.batches) {
        try {
          results.push(...(await interleaved(opts, model, batch, configs)));
        } catch (e) {
          const error = (e as Error).message.split('\n')[0]!;
          failures.push({ model, batch, phase: n, error });
          console.error(`  ${model} b${batch} failed: ${error}`);
          // An aborted wasm module is unusable: start a fresh one.
          await initWasmBackend({ threads });
        }
      }
    }
    return init;
  };

  const single = await phase(1, 1, [{ name: 'wasm 1t stock', enter: unregisterFastWasmConvKernels }, fast]);
  const threaded: WasmInitResult = await phase(2, 2, [
    { name: 'wasm 1t fast (threaded build)', enter: () => (registerFastWasmConvKernels(), setXnnpackThreads(1)) },
    { name: 'wasm 2t fast', enter: () => (registerFastWasmConvKernels(), setXnnpackThreads(2)) },
  ]);

  const torch = opts.torch ? runTorch(opts) : null;
  const out = {
    date: new Date().toISOString(),
    machine: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model, node: process.version, loadavgBefore: loadBefore, loadavgAfter: os.loadavg() },
    tfjs: tf.version.tfjs,
    settings: { warmupSeconds: opts.warmupS, seconds: opts.seconds, rounds: opts.rounds, statistic: 'best round' },
    wasm: { singleThread: single, threaded },
    results,
    failures,
    torch,
  };
  mkdirSync(path.join(HERE, 'results'), { recursive: true });
  writeFileSync(path.join(HERE, 'results', 'wasm-train.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log('\ntraining step (forward + backward + Adam), images/s, best of rounds');
  console.log(table(results, torch, opts));
  for (const f of failures) console.log(`failed: ${f.model} batch ${f.batch} (phase ${f.phase}): ${f.error}`);
  if (torch && 'error' in torch) console.log(`pytorch: ${torch.error}`);
  if (threaded.note) console.log(`threads: ${threaded.note}`);
  console.log(`load average before/after: ${loadBefore[0]!.toFixed(2)} / ${os.loadavg()[0]!.toFixed(2)} on ${os.availableParallelism()} cores`);
}

await main();
