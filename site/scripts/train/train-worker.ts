/**
 * The training worker: tfjs, the model, the optimiser and the data live here,
 * off the page's main thread, so the page keeps drawing and answering while
 * steps run. Between steps the loop yields (a MessageChannel task, no timer
 * clamp) so pause, beta changes and exports are handled at once. The latent
 * map and the decoded grid are refreshed on a time budget: encoding the test
 * digits costs about as much as a few steps, so it takes at most
 * REFRESH_SHARE of the time, and at least every REFRESH_MIN_MS.
 */
import { readDigitSet, type DigitSet } from '../../../lib/digit-set.ts';
import { tf } from '../engine/tf-runtime.ts';
import type { FromTrainer, TrainConfig, TrainerBackendReport, TrainerState, ToTrainer } from './protocol.ts';
import { RateWindow } from './rate.ts';
import { BrowserTrainer, type StepLosses } from './trainer.ts';
import { chooseTrainingBackend } from './trainer-backend.ts';
import { exportBundle } from './trainer-export.ts';

const REFRESH_SHARE = 0.15;
const REFRESH_MIN_MS = 300;
const REPORT_MIN_MS = 60;
const GRID_EXTENT = 3;

const scope = self as unknown as { onmessage: ((e: MessageEvent<ToTrainer>) => void) | null; postMessage(m: FromTrainer, transfer?: Transferable[]): void };
const post = (m: FromTrainer, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

let data: DigitSet | null = null;
let report: TrainerBackendReport | null = null;
let gridSize = 11;
let trainer: BrowserTrainer | null = null;
let state: TrainerState = 'idle';
let running: Promise<void> | null = null;
let exporting: Promise<void> | null = null;
const rate = new RateWindow();
let activeMs = 0;
let betaChanges: [number, number][] = [];
/** Sums since the last progress report. */
let pending = { steps: 0, loss: 0, reconstruction: 0, kl: 0 };
let lastReport = 0;
let lastRefresh = 0;
let refreshCostMs = 0;

const channel = new MessageChannel();
let wake: (() => void) | null = null;
channel.port1.onmessage = () => wake?.();
/** Lets queued messages run before the next step. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    wake = resolve;
    channel.port2.postMessage(null);
  });
}

function setState(next: TrainerState): void {
  state = next;
  post({ type: 'state', state, step: trainer?.steps ?? 0 });
}

function reportProgress(t: BrowserTrainer): void {
  const n = Math.max(pending.steps, 1);
  const m = tf.memory();
  const perSecond = rate.perSecond;
  post({
    type: 'progress',
    step: t.steps,
    epoch: t.epoch,
    epochFraction: t.stepInEpoch / t.batchesPerEpoch,
    loss: pending.loss / n,
    reconstruction: pending.reconstruction / n,
    kl: pending.kl / n,
    beta: t.beta,
    klWeight: t.klWeight,
    imagesPerSecond: perSecond,
    etaSeconds: perSecond > 0 ? (t.totalImages - t.imagesSeen) / perSecond : Infinity,
    tensors: m.numTensors,
    bytes: m.numBytes,
  });
  pending = { steps: 0, loss: 0, reconstruction: 0, kl: 0 };
  lastReport = performance.now();
}

/** Sends the test digits' latent means and the decoded grid. */
function refresh(t: BrowserTrainer): void {
  const t0 = performance.now();
  const z = t.latentMeans();
  const pixels = t.decodeGrid(gridSize, GRID_EXTENT);
  post({ type: 'map', step: t.steps, z }, [z.buffer]);
  post({ type: 'grid', step: t.steps, size: gridSize, extent: GRID_EXTENT, pixels }, [pixels.buffer]);
  lastRefresh = performance.now();
  refreshCostMs = lastRefresh - t0;
}

function refreshDue(now: number): boolean {
  return now - lastRefresh >= Math.max(REFRESH_MIN_MS, refreshCostMs / REFRESH_SHARE);
}

function record(t: BrowserTrainer, l: StepLosses): void {
  if (!Number.isFinite(l.loss)) throw new Error(`the loss became ${l.loss} at step ${t.steps}; lower the learning rate or beta and start again`);
  pending.steps++;
  pending.loss += l.loss;
  pending.reconstruction += l.reconstruction;
  pending.kl += l.kl;
}

async function loop(t: BrowserTrainer): Promise<void> {
  rate.restart(performance.now(), t.imagesSeen);
  while (state === 'training' && trainer === t) {
    if (exporting) await exporting;
    const t0 = performance.now();
    record(t, t.step());
    const now = performance.now();
    rate.add(now, t.imagesSeen);
    if (t.finished || refreshDue(now)) refresh(t);
    if (t.finished || now - lastReport >= REPORT_MIN_MS) reportProgress(t);
    activeMs += performance.now() - t0;
    if (t.finished) setState('done');
    await nextTask();
  }
}

function run(t: BrowserTrainer): void {
  running = loop(t).catch((e: Error) => {
    post({ type: 'failed', message: e.message || String(e) });
    if (trainer === t) dropTrainer();
    setState('idle');
  });
}

function dropTrainer(): void {
  trainer?.dispose();
  trainer = null;
}

async function start(config: TrainConfig): Promise<void> {
  if (!data) throw new Error('the data has not loaded');
  state = 'idle';
  await running;
  dropTrainer();
  trainer = new BrowserTrainer(data, config);
  activeMs = 0;
  betaChanges = [];
  pending = { steps: 0, loss: 0, reconstruction: 0, kl: 0 };
  refresh(trainer);
  setState('training');
  run(trainer);
}

async function pause(): Promise<void> {
  if (state !== 'training' || !trainer) return;
  state = 'paused';
  await running;
  if (pending.steps > 0) reportProgress(trainer);
  refresh(trainer);
  setState('paused');
}

function resume(): void {
  if (state !== 'paused' || !trainer) return;
  setState('training');
  run(trainer);
}

async function reset(): Promise<void> {
  state = 'idle';
  await running;
  dropTrainer();
  setState('idle');
}

async function exportModel(id: number): Promise<void> {
  if (!trainer || !data) throw new Error('there is no trained model yet: press Start first');
  const t = trainer;
  let done = () => {};
  exporting = new Promise((resolve) => (done = resolve));
  try {
    const files = await exportBundle(t, data.test.labels, { backend: report?.used ?? tf.getBackend(), seconds: activeMs / 1000, imagesPerSecond: activeMs > 0 ? (t.imagesSeen * 1000) / activeMs : 0, betaChanges }, { train: data.train.count, test: data.test.count, source: data.source });
    post({ type: 'exported', id, files }, files.map((f) => f.bytes));
  } finally {
    exporting = null;
    done();
  }
}

async function init(msg: Extract<ToTrainer, { type: 'init' }>): Promise<void> {
  try {
    gridSize = msg.gridSize;
    data = await readDigitSet(new Uint8Array(msg.data), 'the digits data');
    report = await chooseTrainingBackend(msg.backend, data);
    post({ type: 'ready', backend: report, data: { train: data.train.count, test: data.test.count, testLabels: data.test.labels.slice() } });
  } catch (e) {
    post({ type: 'init-failed', message: (e as Error).message || String(e) });
  }
}

async function handle(msg: ToTrainer): Promise<void> {
  switch (msg.type) {
    case 'init':
      return init(msg);
    case 'start':
      return start(msg.config);
    case 'pause':
      return pause();
    case 'resume':
      return resume();
    case 'reset':
      return reset();
    case 'set-beta':
      if (trainer && msg.beta !== trainer.beta) {
        trainer.beta = msg.beta;
        betaChanges.push([trainer.steps, msg.beta]);
      }
      return;
    case 'export':
      return exportModel(msg.id).catch((e: Error) => post({ type: 'failed', message: `export: ${e.message}` }));
    case 'memory': {
      const m = tf.memory();
      post({ type: 'memory', id: msg.id, tensors: m.numTensors, bytes: m.numBytes });
      return;
    }
  }
}

scope.onmessage = (e) => {
  handle(e.data).catch((err: Error) => post({ type: 'failed', message: err.message || String(err) }));
};
