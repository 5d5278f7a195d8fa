/**
 * The training page: downloads the training digits, starts the worker that
 * trains on this device (it times the backends and answers 'ready'), then
 * turns the controls into messages and the worker's reports into the map,
 * the curves, the grid and the figures, drawn in animation frames. This file
 * only wires the modules beside it over one TrainPage object.
 */
import { studioBase } from '../studio/shell.ts';
import { trainingBackendSentence } from './backend-text.ts';
import { startTrainerWorker, TrainerClient, type ReadyMessage } from './client.ts';
import { applyControls, bindControls, readConfig, showConfig, type ControlActions } from './controls.ts';
import { CurvesPlot } from './curves-plot.ts';
import { fetchTrainingData } from './data.ts';
import { trainElements } from './elements.ts';
import { bindExport } from './export.ts';
import { GridView } from './grid-view.ts';
import { trainHook, type TrainHook } from './hook.ts';
import { buildLegend } from '../studio/class-legend.ts';
import { MapPlot } from './map-plot.ts';
import { FramePainter, type Layer } from './painter.ts';
import { clearRun, onCrash, onReport, refresh } from './reports.ts';
import { beginRun, clearRunState, GRID_SIZE, newTrainState, type TrainPage } from './state.ts';
import { epochHint, showFigures } from './status.ts';
import { AwayWatch, bindVisibility } from './visibility.ts';

export type { TrainHook } from './hook.ts';

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Draws what changed; the map asks again while its points move. */
function paint(p: TrainPage, time: number, dirty: ReadonlySet<Layer>): Layer[] {
  const again: Layer[] = [];
  if (dirty.has('map') && p.mapPlot.draw(time)) again.push('map');
  if (dirty.has('curves')) {
    p.curves.draw(p.history);
    const last = p.history[p.history.length - 1];
    p.el.curvesCanvas.setAttribute('aria-label', last ? `Loss curves over ${last.step.toLocaleString('en')} steps` : 'Loss curves: none yet');
  }
  if (dirty.has('grid') && p.grid) p.gridView.draw(p.grid);
  if (dirty.has('stats')) {
    showFigures(p.el, p);
    // Explore and Download wake up with the first step, which no state change announces.
    applyControls(p);
  }
  return again;
}

function createPage(root: HTMLElement): TrainPage {
  // The shell names the page in its notices: "The digits training studio could not start".
  const base = studioBase(root, 'digits training', trainElements(), { downloading: 'the training digits' });
  const { el } = base;
  const p: TrainPage = {
    ...newTrainState(),
    ...base,
    client: null,
    mapPlot: new MapPlot(el.map, el.mapCanvas),
    curves: new CurvesPlot(el.curves, el.curvesCanvas),
    gridView: new GridView(el.gridCanvas, el.gridCaption),
    painter: new FramePainter((time, dirty) => paint(p, time, dirty)),
    away: new AwayWatch(),
  };
  return p;
}

function actionsFor(p: TrainPage): ControlActions {
  const send = (msg: Parameters<TrainerClient['send']>[0]) => p.client?.send(msg);
  return {
    start: (config) => {
      if (!p.client || p.trainer === 'training' || p.trainer === 'paused') return;
      showConfig(p.el, config);
      p.shell.hideNotice();
      beginRun(p, config);
      clearRun(p);
      refresh(p);
      send({ type: 'start', config });
    },
    pause: () => {
      if (p.trainer !== 'training') return;
      p.pausing = true;
      applyControls(p);
      send({ type: 'pause' });
    },
    resume: () => send({ type: 'resume' }),
    reset: () => {
      send({ type: 'reset' });
      p.resetting = true;
      p.trainer = 'idle';
      clearRunState(p);
      clearRun(p);
      refresh(p);
    },
    setBeta: (beta) => {
      if (Number(p.el.beta.value) !== beta) showConfig(p.el, { ...readConfig(p.el), beta });
      send({ type: 'set-beta', beta });
    },
  };
}

function onReady(p: TrainPage, m: ReadyMessage): void {
  p.ready = true;
  p.backend = m.backend;
  p.data = { train: m.data.train, test: m.data.test, labels: m.data.testLabels };
  p.shell.backend = m.backend.used;
  p.root.dataset.backend = m.backend.used;
  p.mapPlot.setLabels(m.data.testLabels);
  buildLegend(p.el.legend, m.data.testLabels, DIGITS, (label) => {
    p.mapPlot.highlight(label);
    p.painter.mark('map');
  });
  p.el.backendText.textContent = trainingBackendSentence(m.backend, p.shell.request);
  const speed = m.backend.measured.find((b) => b.name === m.backend.used)?.imagesPerSecond ?? null;
  p.el.epochHint.textContent = epochHint(m.data.train, speed);
  p.shell.loaded();
  p.el.map.setAttribute('aria-busy', 'false');
  refresh(p);
}

async function start(p: TrainPage): Promise<void> {
  const { shell, el } = p;
  shell.setStatus('Downloading the training digits…', 'loading');
  el.shell.loader.loader.hidden = false;
  el.shell.loader.loaderBar.setAttribute('aria-label', 'Downloading the training digits');
  const data = await fetchTrainingData(shell.onProgress);
  el.shell.loader.loaderText.textContent = 'Starting TensorFlow.js in a worker and timing the backends on this device…';
  shell.setStatus('Timing the backends on this device…', 'loading');
  const client = new TrainerClient(startTrainerWorker(), (m) => onReport(p, m), (e) => onCrash(p, e));
  let ready: ReadyMessage;
  try {
    ready = await client.init(data, shell.request, GRID_SIZE);
  } catch (e) {
    client.terminate();
    throw e;
  }
  p.client = client;
  onReady(p, ready);
  shell.ready.resolve();
}

function bindResize(p: TrainPage): void {
  const watch = (box: HTMLElement, resize: () => void, layer: Layer) => {
    resize();
    new ResizeObserver(() => {
      resize();
      p.painter.mark(layer);
    }).observe(box);
  };
  watch(p.el.map, () => p.mapPlot.resize(), 'map');
  watch(p.el.curves, () => p.curves.resize(), 'curves');
}

/** Nothing to retry: the browser cannot run the trainer at all. */
function noWorkers(p: TrainPage): void {
  p.shell.loaded();
  p.shell.showNotice({
    kind: 'error',
    title: 'This page needs Web Workers',
    text: 'Training runs in a Web Worker, beside the page, and this browser offers none. A current Chrome, Edge, Firefox or Safari has them.',
  });
  p.shell.setStatus('Not running.', 'error');
  p.el.map.setAttribute('aria-busy', 'false');
  p.shell.ready.reject(new Error('this browser has no Web Workers'));
}

export function startTrainPage(root: HTMLElement): TrainHook {
  const p = createPage(root);
  const actions = actionsFor(p);
  window.__trainer = trainHook(p, actions, () => readConfig(p.el));
  bindControls(p, actions);
  bindExport(p, () => applyControls(p));
  bindVisibility(
    p.away,
    () => ({ state: p.trainer, step: p.step, rate: p.last && p.config ? p.last.imagesPerSecond / p.config.batchSize : 0 }),
    (verdict) => {
      if (verdict) p.el.away.textContent = verdict;
      p.painter.shown();
    },
  );
  bindResize(p);
  p.gridView.clear();
  applyControls(p);
  if (typeof Worker === 'undefined') {
    noWorkers(p);
    return window.__trainer;
  }
  p.shell.run(() => start(p), { canRetry: () => p.client === null, onFailure: () => p.el.map.setAttribute('aria-busy', 'false') });
  return window.__trainer;
}
