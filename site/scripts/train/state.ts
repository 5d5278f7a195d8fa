/**
 * The training page as one typed object: what the worker last reported (its
 * state, the losses, the map, the grid) and the parts that draw it. Every
 * feature module (controls, plots, status, visibility, export) takes this
 * object; the transitions below are plain functions of its data.
 */
import type { StudioBase } from '../studio/shell.ts';
import type { TrainerClient } from './client.ts';
import type { CurvesPlot } from './curves-plot.ts';
import type { TrainElements } from './elements.ts';
import type { GridView } from './grid-view.ts';
import type { MapPlot } from './map-plot.ts';
import type { FramePainter } from './painter.ts';
import type { FromTrainer, StepReport, TrainConfig, TrainerBackendReport, TrainerState } from './protocol.ts';
import type { AwayWatch } from './visibility.ts';

/** One point of the loss curves: a progress report's means. */
export interface CurvePoint {
  step: number;
  loss: number;
  reconstruction: number;
  kl: number;
  beta: number;
}

export type GridMessage = Extract<FromTrainer, { type: 'grid' }>;

/** The page's data: no elements, nothing that runs. */
export interface TrainState {
  /** The worker has the data and a backend: the controls may act. */
  ready: boolean;
  trainer: TrainerState;
  step: number;
  backend: TrainerBackendReport | null;
  data: { train: number; test: number; labels: Uint8Array } | null;
  /** The settings of the run on show (null before the first Start). */
  config: TrainConfig | null;
  last: StepReport | null;
  history: CurvePoint[];
  /** The newest test-digit codes, [test][2] flattened. */
  map: { step: number; z: Float32Array } | null;
  grid: GridMessage | null;
  mapCount: number;
  gridCount: number;
  reports: number;
  /** An export (explore or download) is under way. */
  exporting: boolean;
  /** Pause was pressed and the worker has not confirmed yet (it finishes its step and redraws the map first). */
  pausing: boolean;
  /** Reset was pressed and the worker has not confirmed yet: reports still on their way from the old run are dropped. */
  resetting: boolean;
  /** The last training problem the worker reported, until the next Start. */
  problem: string | null;
}

export interface TrainPage extends TrainState, StudioBase<TrainElements> {
  client: TrainerClient | null;
  readonly mapPlot: MapPlot;
  readonly curves: CurvesPlot;
  readonly gridView: GridView;
  readonly painter: FramePainter;
  readonly away: AwayWatch;
}

/** Images per optimiser step. */
export const BATCH_SIZE = 64;
/** Digits per side of the decoded grid the worker draws. */
export const GRID_SIZE = 11;
/** Curve points kept; older ones are thinned out beyond this. */
export const HISTORY_LIMIT = 3000;

export function newTrainState(): TrainState {
  return {
    ready: false,
    trainer: 'idle',
    step: 0,
    backend: null,
    data: null,
    config: null,
    last: null,
    history: [],
    map: null,
    grid: null,
    mapCount: 0,
    gridCount: 0,
    reports: 0,
    exporting: false,
    pausing: false,
    resetting: false,
    problem: null,
  };
}

/**
 * A new run starts: the curves, the map and the grid of the last one go. The
 * state says training at once, before the worker confirms, so Start cannot be
 * pressed twice meanwhile.
 */
export function beginRun(s: TrainState, config: TrainConfig): void {
  clearRunState(s);
  s.config = config;
  s.trainer = 'training';
}

/** The run's reports are forgotten (a reset, or a new run). */
export function clearRunState(s: TrainState): void {
  s.step = 0;
  s.last = null;
  s.history = [];
  s.map = null;
  s.grid = null;
  s.problem = null;
}

/** Keeps a progress report; the curves thin their oldest half when they grow past `limit`. */
export function applyReport(s: TrainState, r: StepReport, limit = HISTORY_LIMIT): void {
  s.last = r;
  s.step = r.step;
  s.reports++;
  s.history.push({ step: r.step, loss: r.loss, reconstruction: r.reconstruction, kl: r.kl, beta: r.beta });
  if (s.history.length > limit) s.history = thinOldest(s.history);
}

/** Every other point of the older half, all of the newer half: the recent curve stays detailed. */
export function thinOldest<T>(points: readonly T[]): T[] {
  const half = Math.floor(points.length / 2);
  return [...points.slice(0, half).filter((_, i) => i % 2 === 0), ...points.slice(half)];
}

/** Optimiser steps in a whole run: `epochs` passes over `train` images in batches. */
export function totalSteps(train: number, config: Pick<TrainConfig, 'epochs' | 'batchSize'>): number {
  return config.epochs * Math.ceil(train / config.batchSize);
}

/** Which controls make sense now. */
export interface ControlStates {
  start: boolean;
  /** What the start button says: a first run, or a fresh one after another. */
  startLabel: string;
  pause: boolean;
  pauseLabel: 'Pause' | 'Pausing…' | 'Resume';
  reset: boolean;
  /** Learning rate and epochs: fixed once a run starts. */
  settings: boolean;
  beta: boolean;
  /** Explore and download: a model with at least one step behind it. */
  export: boolean;
}

export function controlStates(s: Pick<TrainState, 'ready' | 'trainer' | 'step' | 'exporting' | 'pausing'>): ControlStates {
  const { ready, trainer, step, exporting, pausing } = s;
  const running = trainer === 'training' || trainer === 'paused';
  return {
    start: ready && !running,
    startLabel: trainer === 'done' ? 'Start again' : 'Start',
    pause: ready && running && !pausing,
    pauseLabel: pausing ? 'Pausing…' : trainer === 'paused' ? 'Resume' : 'Pause',
    reset: ready && trainer !== 'idle',
    settings: ready && !running,
    beta: ready,
    export: ready && trainer !== 'idle' && step > 0 && !exporting,
  };
}
