/**
 * The anomaly page: a drawing pad (mouse, pen, touch), clickable test images,
 * and the verdict. Strokes are kept as vectors and rendered again MNIST-style
 * (mnist-preprocess.ts) for the model; the VAE runs in the browser
 * (vae-runner.ts) and the score is compared with the threshold the build
 * calibrated on MNIST test digits.
 */
import { byId, deferred, showDownload } from '../page-kit.ts';
import { isAnomalous, shareBelow } from '../../../lib/anomaly.ts';
import { fromBase64Url } from '../../../lib/base64url.ts';
import { parseAnomalyExamples, usesMetricsOf, type AnomalyExamplesFile, type UsesMetrics } from '../../../lib/uses.ts';
import { engineSentence, readBackendRequest, type BackendName, type BackendRequest, type EngineReport } from '../backend-choice.ts';
import { measureBackends, timeCalls } from '../engine-core.ts';
import { LatestOnly } from '../latest-only.ts';
import { formatBytes, type ProgressSnapshot } from '../progress.ts';
import { startBackend, tf } from '../tf-runtime.ts';
import { centreByMass, downsample, fitTransform, greyFromRgba, judgeDrawing, strokeBounds, type Point, type Stroke } from './mnist-preprocess.ts';
import { logScale } from './plot.ts';
import { fetchBundleJson, loadManifestFor, VaeRunner, type VaeArtifacts, type VaeRun } from './vae-runner.ts';

/** Read by the end-to-end tests (and curious visitors): `window.__anomaly`. */
export interface AnomalyHook {
  /** Resolves once the model is loaded and warm; rejects if the page could not start. */
  ready: Promise<void>;
  readonly backend: BackendName | null;
  /** Milliseconds per scored image on each backend timed at start (empty when ?backend= forced one). */
  readonly measured: readonly { name: BackendName; ms: number }[];
  readonly threshold: number;
  /** How many images have been scored. */
  readonly runs: number;
  readonly last: { score: number; reconstruction: number; kl: number; anomalous: boolean; source: 'drawing' | 'example'; example: number | null } | null;
  /** Resolves when no scoring is pending or running. */
  settled(): Promise<void>;
  numTensors(): number;
}

declare global {
  interface Window {
    __anomaly?: AnomalyHook;
  }
}

/** Oversampling of the MNIST-style render before it is averaged down to 28x28 (smooth, anti-aliased strokes). */
const SUPERSAMPLE = 4;

export function startAnomalyPage(root: HTMLElement): AnomalyHook {
  const modelId = root.dataset.model ?? 'digits';
  const el = {
    notice: byId('anomaly-notice'),
    noticeTitle: byId('anomaly-notice-title'),
    noticeText: byId('anomaly-notice-text'),
    loader: byId('u-loader'),
    loaderBar: byId('u-loader-bar'),
    loaderFill: byId('u-loader-fill'),
    loaderText: byId('u-loader-text'),
    pad: byId<HTMLCanvasElement>('pad'),
    clear: byId<HTMLButtonElement>('pad-clear'),
    seen: byId<HTMLCanvasElement>('seen'),
    rebuilt: byId<HTMLCanvasElement>('rebuilt'),
    verdict: byId('verdict'),
    score: byId('score'),
    scoreRec: byId('score-rec'),
    scoreKl: byId('score-kl'),
    scoreRank: byId('score-rank'),
    status: byId('u-status'),
    threshold: byId('threshold'),
  };
  const marker = document.getElementById('score-marker');
  const markerLabel = document.getElementById('score-marker-label');
  const histogram = document.getElementById('score-histogram');
  const exampleButtons = [...root.querySelectorAll<HTMLButtonElement>('button[data-example]')];

  let backend: BackendName | null = null;
  let measured: AnomalyHook['measured'] = [];
  let threshold = Number(root.dataset.threshold);
  let runner: VaeRunner | null = null;
  let uses: UsesMetrics | null = null;
  let examples: AnomalyExamplesFile | null = null;
  let runs = 0;
  let last: AnomalyHook['last'] = null;
  const strokes: Stroke[] = [];
  let drawing: Stroke | null = null;

  /** `unjudged`: why the drawing is not scored (too small, too little ink); it goes through the queue so an older score cannot overwrite it. */
  type Job = { input: Float32Array; source: 'drawing' | 'example'; example: number | null; unjudged?: string };
  const scheduler = new LatestOnly<Job>((job) => score(job), undefined, (e) => fail('Scoring failed', e));

  const { promise: ready, resolve: resolveReady, reject: rejectReady } = deferred();

  const hook: AnomalyHook = {
    ready,
    get backend() {
      return backend;
    },
    get measured() {
      return measured;
    },
    get threshold() {
      return threshold;
    },
    get runs() {
      return runs;
    },
    get last() {
      return last;
    },
    settled: async () => {
      while (!scheduler.idle) await new Promise((r) => requestAnimationFrame(() => r(null)));
    },
    numTensors: () => tf.memory().numTensors,
  };
  window.__anomaly = hook;

  function fail(title: string, e: unknown): void {
    console.error(e);
    el.noticeTitle.textContent = title;
    el.noticeText.textContent = (e as Error).message ?? String(e);
    el.notice.hidden = false;
  }

  function onProgress(s: ProgressSnapshot): void {
    showDownload(el, s, 'the encoder and decoder');
  }

  // Drawing pad: white ink on black, as MNIST stores its digits.
  const padCtx = el.pad.getContext('2d')!;
  const penWidth = () => el.pad.width * 0.055;

  function padPoint(e: PointerEvent): Point {
    const r = el.pad.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * el.pad.width, ((e.clientY - r.top) / r.height) * el.pad.height];
  }

  function drawStrokes(ctx: CanvasRenderingContext2D, list: readonly Stroke[], scale: number, dx: number, dy: number, width: number): void {
    ctx.strokeStyle = '#fff';
    ctx.fillStyle = '#fff';
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.lineWidth = width;
    for (const s of list) {
      if (s.length === 1) {
        ctx.beginPath();
        ctx.arc(s[0]![0] * scale + dx, s[0]![1] * scale + dy, width / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      ctx.beginPath();
      s.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x * scale + dx, y * scale + dy) : ctx.lineTo(x * scale + dx, y * scale + dy)));
      ctx.stroke();
    }
  }

  function redrawPad(): void {
    padCtx.fillStyle = '#0b0c0e';
    padCtx.fillRect(0, 0, el.pad.width, el.pad.height);
    drawStrokes(padCtx, strokes, 1, 0, 0, penWidth());
  }

  /** The strokes as a 28x28 MNIST-style image: bounding box fitted to 20x20, centred by mass. */
  function modelInput(): Float32Array | null {
    const bounds = strokeBounds(strokes);
    if (!bounds) return null;
    const size = 28;
    const t = fitTransform(bounds, { minExtent: el.pad.width * 0.12 });
    const big = size * SUPERSAMPLE;
    const canvas = new OffscreenCanvas(big, big);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, big, big);
    drawStrokes(ctx as unknown as CanvasRenderingContext2D, strokes, t.scale * SUPERSAMPLE, t.offsetX * SUPERSAMPLE, t.offsetY * SUPERSAMPLE, t.penWidth * SUPERSAMPLE);
    const grey = greyFromRgba(ctx.getImageData(0, 0, big, big).data);
    return centreByMass(downsample(grey, big, SUPERSAMPLE), size);
  }

  function requestDrawingScore(): void {
    const input = modelInput();
    if (!input || !runner) return;
    const check = judgeDrawing(input, 28);
    void scheduler.request({ input, source: 'drawing', example: null, unjudged: check.ok ? undefined : check.message });
  }

  /** A drawing with too little to go on: what the model was given, and why there is no verdict. */
  function showUnjudged(input: Float32Array, message: string): void {
    clearResult('unjudged', message);
    paintGrey(el.seen, input);
  }

  /** No score on show: the verdict line says why, the figures are dashes and the marker hides. */
  function clearResult(state: 'idle' | 'unjudged', message: string): void {
    for (const c of [el.seen, el.rebuilt]) c.getContext('2d')!.clearRect(0, 0, c.width, c.height);
    el.verdict.dataset.state = state;
    el.verdict.textContent = message;
    for (const out of [el.score, el.scoreRec, el.scoreKl]) out.textContent = '—';
    el.scoreRank.textContent = '';
    marker?.setAttribute('visibility', 'hidden');
    last = null;
  }

  function bindPad(): void {
    const pad = el.pad;
    pad.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      pad.setPointerCapture(e.pointerId);
      drawing = [padPoint(e)];
      strokes.push(drawing);
      for (const b of exampleButtons) b.setAttribute('aria-pressed', 'false');
      redrawPad();
    });
    pad.addEventListener('pointermove', (e) => {
      if (!drawing) return;
      const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
      for (const c of events.length ? events : [e]) drawing.push(padPoint(c));
      redrawPad();
      requestDrawingScore();
    });
    const end = () => {
      if (!drawing) return;
      drawing = null;
      requestDrawingScore();
    };
    pad.addEventListener('pointerup', end);
    pad.addEventListener('pointercancel', end);
    el.clear.addEventListener('click', () => {
      strokes.length = 0;
      drawing = null;
      redrawPad();
      resetResult();
    });
    redrawPad();
  }

  function paintGrey(canvas: HTMLCanvasElement, values: Float32Array): void {
    const ctx = canvas.getContext('2d')!;
    const img = ctx.createImageData(canvas.width, canvas.height);
    for (let i = 0; i < values.length; i++) {
      const g = Math.round(Math.min(1, Math.max(0, values[i]!)) * 255);
      img.data[4 * i] = g;
      img.data[4 * i + 1] = g;
      img.data[4 * i + 2] = g;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  function resetResult(): void {
    clearResult('idle', 'Draw a digit or pick an example.');
  }

  function placeMarker(score: number): void {
    if (!marker || !histogram) return;
    const d = histogram.dataset;
    const x0 = Number(d.x0);
    const x1 = Number(d.x1);
    const sx = logScale([x0, x1], [Number(d.r0), Number(d.r1)]);
    const clamped = Math.min(Math.max(score, x0), x1);
    marker.setAttribute('transform', `translate(${sx(clamped).toFixed(1)} 0)`);
    marker.setAttribute('visibility', 'visible');
    if (markerLabel) markerLabel.textContent = score > x1 ? `you: ${Math.round(score)} →` : `you: ${Math.round(score)}`;
  }

  function show(run: VaeRun, job: Job): void {
    paintGrey(el.seen, run.input);
    paintGrey(el.rebuilt, run.reconstructed);
    const anomalous = isAnomalous(run.score, threshold);
    el.verdict.dataset.state = anomalous ? 'anomalous' : 'normal';
    el.verdict.textContent = anomalous ? 'Unusual: not like the digits it was trained on' : 'Looks like a handwritten digit';
    el.score.textContent = run.score.toFixed(1);
    el.scoreRec.textContent = run.reconstruction.toFixed(1);
    el.scoreKl.textContent = run.kl.toFixed(2);
    if (uses) {
      const h = uses.anomaly.histogram;
      const below = shareBelow(run.score, h.edges, h.mnist);
      el.scoreRank.textContent = Number.isFinite(below)
        ? below >= 0.995
          ? 'Higher than practically every MNIST test digit.'
          : `Higher than about ${Math.max(0, Math.round(below * 100))}% of MNIST test digits.`
        : '';
    }
    placeMarker(run.score);
    last = { score: run.score, reconstruction: run.reconstruction, kl: run.kl, anomalous, source: job.source, example: job.example };
  }

  async function score(job: Job): Promise<void> {
    if (!runner) return;
    if (job.unjudged) {
      showUnjudged(job.input, job.unjudged);
      return;
    }
    const run = await runner.run(job.input);
    runs++;
    show(run, job);
  }

  function bindExamples(): void {
    for (const button of exampleButtons) {
      button.setAttribute('aria-pressed', 'false');
      button.addEventListener('click', () => {
        const i = Number(button.dataset.example);
        const item = examples?.examples[i];
        if (!item || !examples) return;
        for (const b of exampleButtons) b.setAttribute('aria-pressed', String(b === button));
        strokes.length = 0;
        redrawPad();
        const bytes = fromBase64Url(item.pixels);
        void scheduler.request({ input: Float32Array.from(bytes, (v) => v / 255), source: 'example', example: i });
      });
    }
  }

  /**
   * The backend as on the studios: forced by ?backend=, else WebGL and
   * WebAssembly each build the encoder and decoder and score a blank pad a
   * few times, and the faster is kept (plain JavaScript only if neither runs).
   */
  async function startRunner(request: BackendRequest, artifacts: VaeArtifacts, blank: Float32Array): Promise<Pick<EngineReport, 'used' | 'failed' | 'measured'>> {
    if (!request.forced) {
      const { best, measured, failed } = await measureBackends({
        build: () => VaeRunner.build(artifacts),
        time: (r) => timeCalls(() => r.run(blank)),
        dispose: (r) => r.dispose(),
      });
      if (best) {
        runner = await VaeRunner.build(artifacts);
        return { used: best.name, failed, measured };
      }
      const outcome = await startBackend({ forced: 'cpu', problem: null }, failed);
      runner = await VaeRunner.build(artifacts);
      return { used: outcome.used, failed: outcome.failed, measured };
    }
    const outcome = await startBackend(request);
    runner = await VaeRunner.build(artifacts);
    return { used: outcome.used, failed: outcome.failed, measured: [] };
  }

  async function start(): Promise<void> {
    bindPad();
    bindExamples();
    const request = readBackendRequest(location.search);
    const stage = await loadManifestFor(modelId, (m) => {
      const u = usesMetricsOf(m);
      return u ? [u.files.anomalyExamples] : [];
    }, onProgress);
    uses = usesMetricsOf(stage.manifest);
    if (!uses) throw new Error(`the ${modelId} model has no anomaly threshold yet; run npm run evaluate -- --bundle public/models/${modelId}`);
    // The manifest served now wins over the one the page was built with (they differ only mid-deployment).
    threshold = uses.anomaly.threshold;
    el.threshold.textContent = threshold.toFixed(1);
    const examplesJson = fetchBundleJson(stage, uses.files.anomalyExamples, 'the example images');
    const [artifacts, ex] = await Promise.all([VaeRunner.fetchArtifacts(stage), examplesJson]);
    examples = parseAnomalyExamples(ex);
    const { height, width, channels } = artifacts.manifest.image;
    const blank = new Float32Array(height * width * channels);
    const report = await startRunner(request, artifacts, blank);
    backend = report.used;
    measured = report.measured.map(({ name, ms }) => ({ name, ms }));
    // Warm-up: the first run compiles shaders or kernels; do it before the visitor waits on it.
    await runner!.run(blank);
    el.loader.hidden = true;
    el.status.textContent = `${engineSentence({ ...report, where: 'page', workerProblem: null }, request, 'Running the encoder and decoder', { figures: true })} Nothing you draw leaves this page.`;
    root.dataset.backend = report.used;
    for (const b of exampleButtons) b.disabled = false;
    if (strokes.length) requestDrawingScore();
  }

  start().then(resolveReady, (e: unknown) => {
    el.loader.hidden = true;
    el.status.textContent = '';
    fail('The model could not start', e);
    rejectReady(e);
  });
  return hook;
}
