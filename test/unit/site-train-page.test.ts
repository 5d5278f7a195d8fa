/**
 * The training page's pure parts: the map's motion, the curves' ranges, the
 * grid's pixel layout, which controls each state allows, the figures and
 * sentences it shows, the hidden-tab verdict, the frame painter and the
 * worker client (over a stand-in worker).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { trainingBackendSentence } from '../../site/scripts/train/backend-text.ts';
import { TrainerClient, type TrainerReport } from '../../site/scripts/train/client.ts';
import { betaChanges, curveRange, smoothed, smoothingSteps } from '../../site/scripts/train/curves-plot.ts';
import { downloadName, explorerHref, tarEntries } from '../../site/scripts/train/export.ts';
import { gridCaption, gridToRgba } from '../../site/scripts/train/grid-view.ts';
import { mapChecksum } from '../../site/scripts/train/hook.ts';
import { labelCounts } from '../../site/scripts/studio/class-legend.ts';
import { FramePainter, type Layer } from '../../site/scripts/train/painter.ts';
import type { FromTrainer, StepReport, ToTrainer, TrainerBackendReport } from '../../site/scripts/train/protocol.ts';
import { applyReport, beginRun, controlStates, newTrainState, thinOldest, totalSteps, type CurvePoint } from '../../site/scripts/train/state.ts';
import { epochHint, formatEta, stateSentence, trainStats } from '../../site/scripts/train/status.ts';
import { easeInOutCubic, mapHalf, PointTween } from '../../site/scripts/train/tween.ts';
import { AwayWatch, awayVerdict } from '../../site/scripts/train/visibility.ts';

function report(step: number, extra: Partial<StepReport> = {}): StepReport {
  return {
    type: 'progress',
    step,
    epoch: 0,
    epochFraction: step / 157,
    loss: 200 - step / 10,
    reconstruction: 195 - step / 10,
    kl: 5,
    beta: 1,
    klWeight: 1,
    imagesPerSecond: 400,
    etaSeconds: 90,
    tensors: 40,
    bytes: 2_000_000,
    ...extra,
  };
}

describe('the map motion', () => {
  it('eases from 0 to 1 through ½, clamped outside', () => {
    expect(easeInOutCubic(0)).toBe(0);
    expect(easeInOutCubic(0.5)).toBeCloseTo(0.5, 12);
    expect(easeInOutCubic(1)).toBe(1);
    expect(easeInOutCubic(-1)).toBe(0);
    expect(easeInOutCubic(2)).toBe(1);
    expect(easeInOutCubic(0.25)).toBeLessThan(0.25);
  });

  it('starts the first codes from the origin and arrives after its duration', () => {
    const t = new PointTween(250);
    t.retarget(Float32Array.from([2, -2, 4, 0]), 1000);
    expect(Array.from(t.at(1000))).toEqual([0, 0, 0, 0]);
    expect(Array.from(t.at(1125))).toEqual([1, -1, 2, 0]);
    expect(Array.from(t.at(1250))).toEqual([2, -2, 4, 0]);
    expect(t.moving(1249)).toBe(true);
    expect(t.moving(1250)).toBe(false);
  });

  it('sets off again from where the points are mid-flight', () => {
    const t = new PointTween(100);
    t.retarget(Float32Array.from([4, 4]), 0);
    t.retarget(Float32Array.from([0, 0]), 50);
    expect(Array.from(t.at(50))).toEqual([2, 2]);
    expect(Array.from(t.at(100))).toEqual([1, 1]);
    expect(Array.from(t.at(150))).toEqual([0, 0]);
  });

  it('widens the square to hold the codes, never narrower than the prior, and moves it with the points', () => {
    expect(mapHalf(new Float32Array(0))).toBeCloseTo(3 * 1.08, 12);
    const wide = Float32Array.from({ length: 400 }, (_, i) => (i % 2 ? 8 : -8));
    expect(mapHalf(wide)).toBeCloseTo(8 * 1.08, 5);
    const t = new PointTween(100);
    t.retarget(wide, 0);
    expect(t.half(0)).toBeCloseTo(3 * 1.08, 5);
    expect(t.half(50)).toBeCloseTo(5.5 * 1.08, 5);
    expect(t.half(100)).toBeCloseTo(8 * 1.08, 5);
  });

  it('forgets everything on clear', () => {
    const t = new PointTween(100);
    t.retarget(Float32Array.from([5, 5]), 0);
    t.clear();
    expect(t.at(1000).length).toBe(0);
    expect(t.half(1000)).toBeCloseTo(3 * 1.08, 12);
  });
});

describe('the loss curves', () => {
  const points: CurvePoint[] = [
    { step: 0, loss: 540, reconstruction: 540, kl: 0, beta: 1 },
    { step: 10, loss: 300, reconstruction: 298, kl: 2, beta: 1 },
    { step: 50, loss: 200, reconstruction: 195, kl: 5, beta: 1 },
    { step: 80, loss: 190, reconstruction: 184, kl: 6, beta: 0.5 },
    { step: 100, loss: 185, reconstruction: 178, kl: 7, beta: 0.5 },
  ];

  it('leaves the first steps above the panel and pads the rest', () => {
    const [lo, hi] = curveRange(points, ['loss', 'reconstruction']);
    expect(hi).toBeLessThan(300);
    expect(hi).toBeGreaterThan(200);
    expect(lo).toBeLessThan(178);
    expect(lo).toBeGreaterThanOrEqual(0);
  });

  it('uses every point while there are few, and never goes below 0', () => {
    expect(curveRange(points.slice(0, 2), ['kl'])[0]).toBe(0);
    expect(curveRange(points.slice(0, 2), ['kl'])[1]).toBeGreaterThan(2);
    expect(curveRange([], ['loss'])).toEqual([0, 1]);
  });

  it('skips values that are not finite', () => {
    const [lo, hi] = curveRange([...points, { step: 101, loss: NaN, reconstruction: Infinity, kl: 1, beta: 1 }], ['loss']);
    expect(Number.isFinite(lo) && Number.isFinite(hi)).toBe(true);
  });

  it('averages over steps, restarting after a value that is not finite', () => {
    const flat = smoothed(points, 'kl', 1e-9);
    expect(flat).toEqual(points.map((p) => p.kl));
    const slow = smoothed(points, 'loss', 10);
    expect(slow[0]).toBe(540);
    expect(slow[1]).toBeCloseTo(540 - 240 * (1 - Math.exp(-1)), 9);
    const broken = smoothed([...points.slice(0, 2), { step: 20, loss: NaN, reconstruction: 0, kl: 0, beta: 1 }, { step: 30, loss: 7, reconstruction: 0, kl: 0, beta: 1 }], 'loss', 10);
    expect(broken.slice(2)).toEqual([NaN, 7]);
    expect(smoothingSteps(40)).toBe(3);
    expect(smoothingSteps(800)).toBe(20);
  });

  it('marks where β changed', () => {
    expect(betaChanges(points)).toEqual([{ step: 80, beta: 0.5 }]);
  });
});

describe('the decoded grid', () => {
  it('puts tile (r, c) at row r, column c, each tile row-major', () => {
    const size = 2;
    const tile = 2;
    // Tile k holds the values k/10 + pixel/100.
    const pixels = Float32Array.from({ length: size * size * tile * tile }, (_, i) => Math.floor(i / 4) / 10 + (i % 4) / 100);
    const rgba = gridToRgba(pixels, size, tile);
    const grey = (x: number, y: number) => rgba[(y * size * tile + x) * 4]!;
    expect(rgba.length).toBe(4 * 4 * 4);
    expect(grey(0, 0)).toBe(0);
    expect(grey(1, 0)).toBe(Math.round(255 * 0.01));
    expect(grey(2, 0)).toBe(Math.round(255 * 0.1));
    expect(grey(0, 2)).toBe(Math.round(255 * 0.2));
    expect(grey(3, 3)).toBe(Math.round(255 * 0.33));
    expect(rgba[3]).toBe(255);
  });

  it('says what it shows', () => {
    expect(gridCaption(11, 3, 1200)).toBe(
      '11 × 11 digits decoded after 1,200 steps at evenly spaced points of z₁ and z₂ from −3 to 3: z₁ grows to the right, z₂ upwards (the top row is z₂ = 3).',
    );
  });
});

describe('the page state', () => {
  it('keeps reports as curve points and thins the oldest half past the limit', () => {
    const s = newTrainState();
    for (let i = 1; i <= 11; i++) applyReport(s, report(i), 10);
    expect(s.step).toBe(11);
    expect(s.reports).toBe(11);
    expect(s.history.length).toBeLessThan(11);
    expect(s.history[s.history.length - 1]!.step).toBe(11);
    expect(thinOldest([1, 2, 3, 4, 5, 6, 7, 8])).toEqual([1, 3, 5, 6, 7, 8]);
  });

  it('starts a run from nothing', () => {
    const s = newTrainState();
    applyReport(s, report(5));
    beginRun(s, { beta: 1, learningRate: 1e-3, batchSize: 64, warmupEpochs: 0, epochs: 2, seed: 1 });
    expect(s.trainer).toBe('training');
    expect(s.history).toEqual([]);
    expect(s.step).toBe(0);
    expect(totalSteps(10_000, s.config!)).toBe(2 * 157);
  });

  it('enables only what makes sense in each state', () => {
    const at = (trainer: 'idle' | 'training' | 'paused' | 'done', step = 10, ready = true, exporting = false) => controlStates({ ready, trainer, step, exporting, pausing: false });
    expect(at('idle', 0, false)).toMatchObject({ start: false, pause: false, reset: false, settings: false, beta: false, export: false });
    expect(at('idle', 0)).toMatchObject({ start: true, pause: false, reset: false, settings: true, beta: true, export: false, startLabel: 'Start' });
    expect(at('training', 0)).toMatchObject({ start: false, pause: true, pauseLabel: 'Pause', reset: true, settings: false, beta: true, export: false });
    expect(at('training')).toMatchObject({ export: true });
    expect(at('training', 10, true, true)).toMatchObject({ export: false });
    expect(controlStates({ ready: true, trainer: 'training', step: 9, exporting: false, pausing: true })).toMatchObject({ pause: false, pauseLabel: 'Pausing…' });
    expect(at('paused')).toMatchObject({ start: false, pause: true, pauseLabel: 'Resume', reset: true, settings: false, export: true });
    expect(at('done')).toMatchObject({ start: true, startLabel: 'Start again', pause: false, reset: true, settings: true, export: true });
  });
});

describe('the figures and sentences', () => {
  it('formats the time left', () => {
    expect(formatEta(Infinity)).toBe('—');
    expect(formatEta(12.4)).toBe('12 s');
    expect(formatEta(200)).toBe('3 min 20 s');
    expect(formatEta(3900)).toBe('1 h 5 min');
  });

  it('shows the step, the epoch with its fraction, the speed and the tensors', () => {
    const stats = trainStats({ trainer: 'training', step: 1234, last: report(1234, { epoch: 2, epochFraction: 0.25, imagesPerSecond: 412.4 }), config: { beta: 1, learningRate: 1e-3, batchSize: 64, warmupEpochs: 0, epochs: 5, seed: 1 } });
    expect(stats).toEqual({ step: '1,234', epoch: '2.25 of 5', rate: '412', eta: '1 min 30 s', tensors: '40 (2.0 MB)', state: 'training' });
    expect(trainStats({ trainer: 'paused', step: 3, last: report(3), config: null }).rate).toBe('—');
  });

  it('says what the trainer does, and why it stopped', () => {
    const base = { step: 10, config: null, problem: null };
    const where = 'WebAssembly (CPU), 2 threads';
    expect(stateSentence({ ...base, trainer: 'idle' }, where)).toBe('Ready to train on WebAssembly (CPU), 2 threads. Choose the settings and press Start.');
    expect(stateSentence({ ...base, trainer: 'training' }, where)).toBe('Training on WebAssembly (CPU), 2 threads.');
    expect(stateSentence({ ...base, trainer: 'paused' }, where)).toBe('Paused after 10 steps.');
    expect(stateSentence({ ...base, trainer: 'done', config: { beta: 1, learningRate: 1e-3, batchSize: 64, warmupEpochs: 0, epochs: 1, seed: 1 } }, where)).toBe('Done: 1 epoch, 10 steps. Explore the model or download it.');
    expect(stateSentence({ ...base, trainer: 'idle', problem: 'the loss became NaN at step 9' }, where)).toBe('Training stopped: the loss became NaN at step 9.');
    expect(epochHint(10_000, 400)).toMatch(/^One epoch is 10,000 images: about 25 s at the speed measured here\./);
  });

  it('tells how the backend was chosen', () => {
    const r: TrainerBackendReport = {
      used: 'wasm',
      threads: 2,
      isolated: true,
      measured: [
        { name: 'webgl', imagesPerSecond: 60.4 },
        { name: 'wasm', imagesPerSecond: 420.2 },
      ],
      failed: [],
      skipped: [],
      renderer: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device))',
    };
    expect(trainingBackendSentence(r, { forced: null, problem: null })).toBe(
      'Training on WebAssembly (CPU), 2 threads: 420 images/s measured here, the fastest; WebGL (no GPU: emulated on the CPU): 60 images/s.',
    );
    const alone = { ...r, threads: 1, isolated: false, renderer: null, measured: [{ name: 'wasm' as const, imagesPerSecond: 7.25 }], failed: [{ name: 'webgl' as const, reason: 'this browser gives no WebGL context' }] };
    expect(trainingBackendSentence(alone, { forced: 'wasm', problem: null })).toBe(
      'Training on WebAssembly (CPU), 1 thread, as asked in the address (7.3 images/s measured here). WebGL (GPU) is unavailable (this browser gives no WebGL context). WebAssembly runs on one thread: this page is not cross-origin isolated, which its threads need.',
    );
    const software = { ...r, measured: [{ name: 'wasm' as const, imagesPerSecond: 232 }], skipped: [{ name: 'webgl' as const, reason: 'no GPU: WebGL is emulated on the CPU' }] };
    expect(trainingBackendSentence(software, { forced: null, problem: null })).toBe(
      'Training on WebAssembly (CPU), 2 threads: 232 images/s measured here. WebGL was not timed. No GPU: WebGL is emulated on the CPU.',
    );
  });

  it('names the files and the explorer link', () => {
    expect(downloadName(312)).toBe('latent-atelier-digits-312steps.tar');
    expect(explorerHref()).toBe('/digits?bundle=local:trained');
    const [entry] = tarEntries([{ path: 'manifest.json', bytes: new TextEncoder().encode('{}').buffer }]);
    expect(entry!.path).toBe('manifest.json');
    expect(Array.from(entry!.bytes)).toEqual([123, 125]);
    expect(labelCounts(Uint8Array.from([0, 1, 1, 9, 12]), 10)).toEqual([1, 2, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(mapChecksum(Float32Array.from([1, 1]))).toBe(3);
  });
});

describe('the hidden tab', () => {
  it('says training went on when steps were reported while hidden', () => {
    const w = new AwayWatch();
    w.hidden(0, 'training', 100, 3.2);
    w.reported(140);
    w.reported(160);
    expect(w.shown(20_000)).toBe('Training went on while this tab was hidden: 60 steps in 20 s, 3.0 steps/s.');
    w.hidden(0, 'training', 100, 12);
    w.reported(160);
    expect(w.shown(20_000)).toBe('Training went on while this tab was hidden: 60 steps in 20 s, slowed to 3.0 steps/s from 12 steps/s.');
    expect(w.last).toMatch(/^Training went on/);
  });

  it('says the browser held training back when nothing came, and names a freeze', () => {
    const v = { hiddenAt: 0, shownAt: 45_000, stateAtHide: 'training' as const, stepAtHide: 300, stepSeen: 300, frozen: false, rateAtHide: 5 };
    expect(awayVerdict(v)).toBe('While this tab was hidden (45 s) the browser held training back: no steps were reported, from step 300 on.');
    expect(awayVerdict({ ...v, frozen: true })).toMatch(/the browser froze this page/);
  });

  it('says nothing when nothing was training, or the absence was brief, or nothing was hidden', () => {
    const w = new AwayWatch();
    expect(w.shown(10)).toBeNull();
    w.hidden(0, 'paused', 5);
    expect(w.shown(60_000)).toBeNull();
    w.hidden(0, 'training', 5);
    expect(w.shown(500)).toBeNull();
    w.reported(99);
    expect(w.last).toBeNull();
  });
});

describe('the frame painter', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('draws in frames only, once per frame, nothing while hidden, everything on return', () => {
    const frames: FrameRequestCallback[] = [];
    vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => frames.push(cb));
    let hidden = false;
    const drawn: Layer[][] = [];
    let animate = 2;
    const painter = new FramePainter(
      (_t, dirty) => {
        drawn.push([...dirty].sort());
        return dirty.has('map') && animate-- > 0 ? ['map'] : [];
      },
      () => hidden,
    );
    painter.mark('curves');
    painter.mark('stats', 'map');
    expect(frames.length).toBe(1);
    frames.shift()!(16);
    expect(drawn).toEqual([['curves', 'map', 'stats']]);
    frames.shift()!(32);
    frames.shift()!(48);
    expect(drawn.slice(1)).toEqual([['map'], ['map']]);
    expect(frames.length).toBe(0);

    hidden = true;
    painter.mark('grid');
    expect(frames.length).toBe(0);
    hidden = false;
    painter.shown();
    frames.shift()!(64);
    expect(drawn[drawn.length - 1]).toEqual(['curves', 'grid', 'map', 'stats']);
    expect(painter.frames).toBe(4);
  });
});

/** A stand-in worker: records what the page sends; `reply` plays the worker's answers. */
class FakeWorker extends EventTarget {
  sent: { msg: ToTrainer; transfer: Transferable[] }[] = [];
  terminated = false;

  postMessage(msg: ToTrainer, transfer: Transferable[] = []): void {
    this.sent.push({ msg, transfer });
  }

  terminate(): void {
    this.terminated = true;
  }

  reply(m: FromTrainer): void {
    this.dispatchEvent(new MessageEvent('message', { data: m }));
  }
}

describe('the worker client', () => {
  function client() {
    const worker = new FakeWorker();
    const reports: TrainerReport[] = [];
    const crashes: Error[] = [];
    const c = new TrainerClient(worker as unknown as Worker, (m) => reports.push(m), (e) => crashes.push(e));
    return { worker, reports, crashes, c };
  }

  it('transfers the data, resolves on ready, and passes reports on', async () => {
    const { worker, reports, c } = client();
    const data = new ArrayBuffer(8);
    const ready = c.init(data, { forced: null, problem: null }, 11);
    expect(worker.sent[0]!.msg).toMatchObject({ type: 'init', gridSize: 11, backend: { forced: null, problem: null } });
    expect(worker.sent[0]!.transfer).toEqual([data]);
    const backend: TrainerBackendReport = { used: 'cpu', threads: 1, isolated: false, measured: [], failed: [], skipped: [], renderer: null };
    worker.reply({ type: 'ready', backend, data: { train: 9, test: 1, testLabels: Uint8Array.of(3) } });
    expect((await ready).data.train).toBe(9);
    worker.reply({ type: 'state', state: 'training', step: 0 });
    expect(reports).toEqual([{ type: 'state', state: 'training', step: 0 }]);
  });

  it('rejects init with the worker’s words', async () => {
    const { worker, c } = client();
    const ready = c.init(new ArrayBuffer(1), { forced: null, problem: null }, 11);
    worker.reply({ type: 'init-failed', message: 'the digits data is not a digit set' });
    await expect(ready).rejects.toThrow('the digits data is not a digit set');
  });

  it('matches answers to questions by id, and fails an export the worker could not write', async () => {
    const { worker, reports, c } = client();
    const first = c.exportFiles();
    const memory = c.memory();
    const second = c.exportFiles();
    const ids = worker.sent.map((s) => (s.msg as { id: number }).id);
    worker.reply({ type: 'memory', id: ids[1]!, tensors: 12, bytes: 34 });
    expect(await memory).toEqual({ tensors: 12, bytes: 34 });
    worker.reply({ type: 'failed', message: 'export: there is no trained model yet: press Start first' });
    await expect(first).rejects.toThrow(/^there is no trained model yet/);
    worker.reply({ type: 'exported', id: ids[2]!, files: [{ path: 'manifest.json', bytes: new ArrayBuffer(2) }] });
    expect((await second).map((f) => f.path)).toEqual(['manifest.json']);
    expect(reports).toEqual([]);
  });

  it('reports a dead worker once and rejects what waits', async () => {
    const { worker, crashes, c } = client();
    const waiting = c.memory();
    worker.dispatchEvent(Object.assign(new Event('error'), { message: 'Uncaught SyntaxError' }));
    await expect(waiting).rejects.toThrow('the training worker stopped (Uncaught SyntaxError)');
    expect(crashes.length).toBe(1);
    await expect(c.exportFiles()).rejects.toThrow(/stopped/);
  });
});
