/**
 * The training loop, top to bottom: settings, the step, the evaluation, the
 * checkpoint and the resume. Ctrl-C (or SIGTERM) finishes the current step,
 * saves and stops; --resume continues from exactly that batch.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import type { EpochRecord, LossTriple } from '../lib/bundle.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import type { ImageDataset, Split } from './data/types.ts';
import { formatDuration, ProgressBar } from './progress.ts';
import type { VaeModels } from '../lib/vae-model.ts';
import { evaluateElbo, stepSeed, trainableVariables, trainStep } from '../lib/vae-step.ts';

export interface TrainSettings {
  epochs: number;
  batchSize: number;
  learningRate: number;
  beta: number;
  seed: number;
  latentDim: number;
  /** Use only the first N training images (0 = all). */
  trainLimit: number;
  testLimit: number;
  checkpointPath: string;
  checkpointMinutes: number;
  /** Face sets: width in source pixels of the region kept before resizing (0: the widest; see cropBox). */
  crop?: number;
  /** Which data the run trains on ("avatars:/abs/folder"): a resume on other data is a new phase, never silent. */
  data?: string;
}

/** Settings that must not change between a run and its resume (epochs may grow). */
const FIXED_ON_RESUME: (keyof TrainSettings)[] = ['batchSize', 'learningRate', 'beta', 'crop', 'data', 'seed', 'latentDim', 'trainLimit'];

export interface RunState {
  settings: TrainSettings;
  /** Epochs fully done. */
  epoch: number;
  /** Batches done within the current epoch. */
  step: number;
  seconds: number;
  history: EpochRecord[];
  /** Running sums of the current epoch's training losses, so a resumed epoch reports the whole epoch. */
  partial: { images: number; seconds: number; loss: number; reconstruction: number; kl: number };
  commands: string[];
  /**
   * Where a resume changed the learning rate or beta (--new-phase): the run's
   * first settings are phase one, each entry starts another at that position.
   */
  phases?: TrainingPhase[];
}

export interface TrainingPhase {
  /** Epochs done and batches into the next when the phase began. */
  epoch: number;
  step: number;
  learningRate: number;
  beta: number;
  /** The face crop of this phase, where the run's crop is not the default (0). */
  crop?: number;
  /** The data of this phase, where the run records it. */
  data?: string;
}

/**
 * Settings a resume may change with newPhase: a lower learning rate, another
 * KL weight, or a tighter face crop (fine-tuning the same weights on faces
 * that fill more of the image).
 */
const PHASE_SETTINGS: (keyof TrainSettings)[] = ['learningRate', 'beta', 'crop', 'data'];

/** A setting as the run used it: checkpoints made before `crop` existed ran with the widest crop. */
function settingOf(s: TrainSettings, key: keyof TrainSettings): unknown {
  return key === 'crop' ? (s.crop ?? 0) : s[key];
}

function phaseOf(s: TrainSettings, epoch: number, step: number): TrainingPhase {
  return { epoch, step, learningRate: s.learningRate, beta: s.beta, ...((s.crop ?? 0) > 0 ? { crop: s.crop } : {}), ...(s.data ? { data: s.data } : {}) };
}

export interface TrainResult {
  state: RunState;
  stoppedEarly: boolean;
}

function allWeights(models: VaeModels): tf.LayerVariable[] {
  return [...models.encoder.weights, ...models.decoder.weights];
}

/** Mean reconstruction, KL and negative ELBO (beta = 1) over a split, with fixed noise. */
export function evaluate(models: VaeModels, split: Split, latentDim: number, limit = 0, batchSize = 500): LossTriple {
  const n = limit > 0 ? Math.min(limit, split.count) : split.count;
  return evaluateElbo(models, (idx) => split.read(idx), n, latentDim, batchSize);
}

function fmt(l: LossTriple): string {
  return `-ELBO ${l.negElbo.toFixed(2)} (rec ${l.reconstruction.toFixed(2)} + KL ${l.kl.toFixed(2)})`;
}

/** Adam's running beta1^t and beta2^t (private fields of tfjs' AdamOptimizer). */
function adamPowers(optimizer: tf.Optimizer): Record<string, tf.Variable> {
  const o = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  return o.accBeta1 && o.accBeta2 ? { beta1: o.accBeta1, beta2: o.accBeta2 } : {};
}

export class NanLossError extends Error {}

type TrainOptions = { resume: boolean; newPhase?: boolean; command: string; log?: (s: string) => void; shouldStop?: (epoch: number, step: number) => boolean };
type Log = (s: string) => void;

function emptyEpoch(): RunState['partial'] {
  return { images: 0, seconds: 0, loss: 0, reconstruction: 0, kl: 0 };
}

/** A run from the first batch; an old checkpoint at the same path is overwritten at the first save. */
function freshRun(settings: TrainSettings, command: string, log: Log): RunState {
  if (existsSync(settings.checkpointPath)) {
    log(`Note: starting afresh; the checkpoint ${settings.checkpointPath} will be overwritten (use --resume to continue it).`);
  }
  return { settings, epoch: 0, step: 0, seconds: 0, history: [], partial: emptyEpoch(), commands: [command] };
}

const RESUME_FLAGS: Partial<Record<keyof TrainSettings, string>> = { batchSize: 'batch', learningRate: 'lr', latentDim: 'latent', trainLimit: 'limit', data: 'dataset/--data-dir' };

function shownSetting(s: TrainSettings, key: keyof TrainSettings): string {
  return key === 'crop' && !s.crop ? '0 (the widest)' : String(settingOf(s, key));
}

/**
 * Compares the checkpoint's settings with these: a fixed one that differs is
 * refused with the flag to fix; a phase setting that differs is allowed with
 * newPhase. Returns whether a new phase starts.
 */
function checkResumeSettings(saved: TrainSettings, settings: TrainSettings, newPhase: boolean): boolean {
  let changed = false;
  for (const key of FIXED_ON_RESUME) {
    if (settingOf(saved, key) === settingOf(settings, key)) continue;
    // Checkpoints made before the data was recorded cannot be checked against it.
    if (key === 'data' && saved.data === undefined) continue;
    if (newPhase && PHASE_SETTINGS.includes(key)) {
      changed = true;
      continue;
    }
    const hint = PHASE_SETTINGS.includes(key) ? '; to continue with a new learning rate, beta, crop or data on purpose, add --new-phase' : '';
    throw new Error(`cannot resume: --${RESUME_FLAGS[key] ?? key} was ${shownSetting(saved, key)} in the checkpoint but is ${shownSetting(settings, key)} now; resume with the same settings (only --epochs may change${hint})`);
  }
  if (newPhase && !changed) throw new Error('--new-phase: none of --lr, --beta, --crop, --data-dir differs from the checkpoint, so there is no new phase to start');
  return changed;
}

/** Writes the checkpoint's model weights, Adam's moments and beta powers into the models and the optimiser. */
async function restoreTensors(models: VaeModels, optimizer: tf.Optimizer, tensors: { name: string; tensor: tf.Tensor }[]): Promise<void> {
  const weights = allWeights(models);
  const modelTensors = tensors.filter((t) => t.name.startsWith('model/'));
  if (modelTensors.length !== weights.length) throw new Error(`cannot resume: the checkpoint holds ${modelTensors.length} model weights but this model has ${weights.length}; was it made with another architecture?`);
  weights.forEach((w, i) => {
    const t = modelTensors[i]!.tensor;
    if (t.shape.join('x') !== w.shape.join('x')) throw new Error(`cannot resume: weight ${w.name} is ${w.shape.join('x')} here but ${t.shape.join('x')} in the checkpoint`);
    w.write(t);
  });
  await optimizer.setWeights(tensors.filter((t) => t.name.startsWith('opt/')).map((t) => ({ name: t.name.slice(4), tensor: t.tensor })));
  // setWeights recomputes Adam's beta powers with pow(); training reached them by repeated
  // float32 products. Restoring the saved ones makes the resumed run bit-identical.
  for (const [name, v] of Object.entries(adamPowers(optimizer))) {
    const saved = tensors.find((t) => t.name === `adam/${name}`);
    if (saved) v.assign(saved.tensor);
  }
}

/** The run in the checkpoint, restored into the models and the optimiser, continuing at the batch where it stopped. */
async function resumeRun(models: VaeModels, optimizer: tf.Optimizer, settings: TrainSettings, opts: TrainOptions, log: Log): Promise<RunState> {
  const ck = loadCheckpoint<RunState>(settings.checkpointPath);
  const changed = checkResumeSettings(ck.state.settings, settings, opts.newPhase ?? false);
  await restoreTensors(models, optimizer, ck.tensors);
  tf.dispose(ck.tensors.map((t) => t.tensor));
  const state: RunState = { ...ck.state, settings, commands: [...ck.state.commands, opts.command] };
  if (changed) {
    const before = ck.state.settings;
    const first = ck.state.phases ?? [phaseOf(before, 0, 0)];
    state.phases = [...first, phaseOf(settings, ck.state.epoch, ck.state.step)];
    const cropChange = settingOf(before, 'crop') !== settingOf(settings, 'crop') ? `, crop ${shownSetting(before, 'crop')} -> ${shownSetting(settings, 'crop')}` : '';
    const dataChange = before.data !== undefined && before.data !== settings.data ? `, data ${before.data} -> ${settings.data}` : '';
    log(`New phase from epoch ${state.epoch + 1}, batch ${state.step}: learning rate ${before.learningRate} -> ${settings.learningRate}, beta ${before.beta} -> ${settings.beta}${cropChange}${dataChange} (Adam's moments are kept).`);
  }
  log(`Resumed from ${settings.checkpointPath}: epoch ${state.epoch + 1}, batch ${state.step}, ${formatDuration(state.seconds)} trained so far.`);
  return state;
}

/** Saves the run: its state, the model weights, Adam's moments and beta powers. */
async function saveRun(models: VaeModels, optimizer: tf.Optimizer, state: RunState): Promise<void> {
  const opt = await optimizer.getWeights();
  const tensors = [
    ...allWeights(models).map((w, i) => ({ name: `model/${i}/${w.name}`, tensor: w.read() as tf.Tensor })),
    ...opt.map((w) => ({ name: `opt/${w.name}`, tensor: w.tensor })),
    ...Object.entries(adamPowers(optimizer)).map(([name, v]) => ({ name: `adam/${name}`, tensor: v as tf.Tensor })),
  ];
  saveCheckpoint(state.settings.checkpointPath, state, tensors);
}

/** Ctrl-C and SIGTERM ask the loop to stop after the current batch; a second one quits at once. */
function stopOnSignals(log: Log): { readonly requested: boolean; request(): void; dispose(): void } {
  let requested = false;
  const onSignal = (sig: string) => {
    if (requested) {
      log(`\n${sig} again: quitting without saving. The last checkpoint is kept.`);
      process.exit(130);
    }
    requested = true;
    log(`\n${sig}: finishing this batch, then saving a checkpoint and stopping (press again to quit at once).`);
  };
  const onInt = () => onSignal('Ctrl-C');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    get requested() {
      return requested;
    },
    request: () => {
      requested = true;
    },
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

/** One optimiser step on one batch at the run's position (lib/vae-step.ts, shared with the browser). */
function runStep(models: VaeModels, optimizer: tf.Optimizer, vars: tf.Variable[], batch: { x: Float32Array; size: number }, state: RunState): [number, number, number] {
  const { settings } = state;
  return trainStep(models, optimizer, vars, { x: batch.x, size: batch.size, noiseSeed: stepSeed(settings.seed, state.epoch, state.step), beta: settings.beta, latentDim: settings.latentDim });
}

/** Adds a finished step to the epoch's running sums; a loss that is not finite stops the run before anything is saved. */
function recordStep(state: RunState, size: number, [loss, rec, kl]: [number, number, number], seconds: number): void {
  if (!Number.isFinite(loss)) {
    throw new NanLossError(`the loss became ${loss} at epoch ${state.epoch + 1}, batch ${state.step + 1}; stopped without saving, so the last good checkpoint (${state.settings.checkpointPath}) is kept. Try a lower --lr or --beta.`);
  }
  state.step++;
  const p = state.partial;
  p.images += size;
  p.loss += loss * size;
  p.reconstruction += rec * size;
  p.kl += kl * size;
  state.seconds += seconds;
  p.seconds += seconds;
}

/** Closes an epoch: evaluates on the test split, appends it to the history and starts the next one. */
function endEpoch(models: VaeModels, data: ImageDataset, state: RunState, log: Log): void {
  const { settings } = state;
  const p = state.partial;
  const trainLoss = { negElbo: (p.reconstruction + p.kl) / p.images, reconstruction: p.reconstruction / p.images, kl: p.kl / p.images };
  const test = evaluate(models, data.test, settings.latentDim, settings.testLimit);
  state.history.push({
    epoch: state.epoch + 1,
    train: trainLoss,
    test,
    seconds: Math.round(state.seconds),
    imagesPerSecond: Math.round((p.images / Math.max(p.seconds, 1e-9)) * 10) / 10,
  });
  log(`epoch ${state.epoch + 1}: train ${fmt(trainLoss)} | test ${fmt(test)} | ${formatDuration(state.seconds)} total`);
  state.epoch++;
  state.step = 0;
  state.partial = emptyEpoch();
}

/**
 * Trains `models` on `data`. With `resume`, restores weights, optimiser and
 * position from the checkpoint first. Returns when all epochs are done or a
 * stop was requested (the checkpoint is saved either way).
 */
export async function train(models: VaeModels, data: ImageDataset, settings: TrainSettings, opts: TrainOptions): Promise<TrainResult> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const optimizer = tf.train.adam(settings.learningRate);
  const vars = trainableVariables(models);
  const trainSplit = settings.trainLimit > 0 && 'head' in data.train ? (data.train as Split & { head(n: number): Split }).head(settings.trainLimit) : data.train;
  const state = opts.resume ? await resumeRun(models, optimizer, settings, opts, log) : freshRun(settings, opts.command, log);
  const save = () => saveRun(models, optimizer, state);
  const stop = stopOnSignals(log);
  try {
    const batchesPerEpoch = Math.ceil(trainSplit.count / settings.batchSize);
    let lastSave = performance.now();
    while (state.epoch < settings.epochs && !stop.requested) {
      const bar = new ProgressBar({ total: trainSplit.count, label: `epoch ${state.epoch + 1}/${settings.epochs}`, unit: 'img', start: state.partial.images });
      for (const batch of trainSplit.batches(settings.batchSize, stepSeed(settings.seed, state.epoch, -1), state.step)) {
        const stepStart = performance.now();
        recordStep(state, batch.size, runStep(models, optimizer, vars, batch, state), (performance.now() - stepStart) / 1000);
        const p = state.partial;
        bar.update(p.images, `loss ${(p.loss / p.images).toFixed(2)} rec ${(p.reconstruction / p.images).toFixed(2)} kl ${(p.kl / p.images).toFixed(2)}`);
        // Signals are delivered by the event loop: give it a turn each batch, or Ctrl-C waits for the next save.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (opts.shouldStop?.(state.epoch, state.step)) stop.request();
        if (stop.requested) break;
        if (performance.now() - lastSave > settings.checkpointMinutes * 60_000) {
          await save();
          lastSave = performance.now();
        }
      }
      if (stop.requested && state.step < batchesPerEpoch) {
        await save();
        log(`\nStopped at epoch ${state.epoch + 1}, batch ${state.step}/${batchesPerEpoch}; checkpoint saved to ${settings.checkpointPath}. Continue with the same command plus --resume.`);
        return { state, stoppedEarly: true };
      }
      bar.finish();
      endEpoch(models, data, state, log);
      await save();
      lastSave = performance.now();
    }
    return { state, stoppedEarly: stop.requested && state.epoch < settings.epochs };
  } finally {
    stop.dispose();
    optimizer.dispose();
  }
}
