/**
 * The faces studio: loads the face bundle's decoder, starts a backend, warms
 * it up, then generates, steers (attribute vectors from the edge API), morphs
 * and shares faces. All decoding happens here, in the visitor's browser; the
 * state and the scheduling live in the faces-* modules beside this one.
 */
import { byId, deferred, showDownload } from './page-kit.ts';
import { betaText, type BundleManifest } from '../../lib/bundle.ts';
import { BACKEND_LABEL, readBackendRequest, type BackendName, type BackendRequest } from './backend-choice.ts';
import { loadDecoderArtifacts, loadManifest, loadPrior, type ManifestStage } from './bundle-loader.ts';
import type { LatentPrior } from '../../lib/prior.ts';
import { defaultTemperature, drawBase, samplerFact, temperatureHint } from './faces-sampling.ts';
import type { LatentDecoder } from './decoder.ts';
import type { MemoryInfo } from './engine-core.ts';
import { engineFacts, engineStatus, preloadDecodeWorker, startDecodeEngine, type DecodeEngine } from './remote-decoder.ts';
import { browserVideoFormat, canvasBlob, drawScaled, exportSizes, faceFileName, recordFrames, saveBlob } from './faces-export.ts';
import { canEncodeWebm, encodeWebm } from './faces-webm.ts';
import { ApiProblem, fetchAttributeList, MixClient, type AttributeList } from './faces-mix.ts';
import { loopPositions, morphPoint, MorphPlayer, tAtPhase, type MorphPath } from './faces-morph.ts';
import {
  addLatent,
  attributeLabel,
  canonicalSliders,
  cryptoRandom,
  DEFAULT_TEMPERATURE,
  faceSearch,
  formatWeight,
  keptLinkNotice,
  mixQuery,
  readFacesArrival,
  RecentFaces,
  SLIDER_MAX,
  SLIDER_MIN,
  SLIDER_STEP,
  sliderValue,
  type Face,
  type SliderSetting,
} from './faces-state.ts';
import { LatestOnly } from './latest-only.ts';
import { paintCentredRange } from './centred-range.ts';
import { toRgba } from './plane-data.ts';
import { pixelContext } from './pixel-canvas.ts';
import { formatBytes, type ProgressSnapshot } from './progress.ts';
import { encodeShareQuery } from '../../lib/latent-url.ts';

type End = 'a' | 'b';

/** tfjs memory where the decoder runs; on WebGL also bytes of live tensors on the GPU and textures allocated (in use or pooled). */
export type FacesMemory = MemoryInfo;

/** What tests (and curious visitors) can read from the console: `window.__faces`. */
export interface FacesHook {
  /** Resolves once the decoder is warm and the first face is shown; rejects if the studio could not start. */
  ready: Promise<void>;
  readonly backend: BackendName | null;
  /** Where decodes run: in a worker, or on the page's thread when no worker could start. */
  readonly where: 'worker' | 'page' | null;
  /** Milliseconds per decode of each backend timed at start-up (empty when ?backend= forced one). */
  readonly measured: { name: BackendName; ms: number }[];
  readonly decodeCount: number;
  warmupMs: number;
  memory(): Promise<FacesMemory>;
  /** Resolves when no decode, mix request or morph frame is pending or running. */
  settled(): Promise<void>;
  /** Mean milliseconds per single-face decode after the warm-up, over the last 100. */
  meanDecodeMs(): number;
  face(): { base: number[]; sliders: SliderSetting[]; shown: number[]; link: string };
  attributeNames(): string[];
  readonly mixRequests: number;
  morph(): { t: number; playing: boolean; framesShown: number; framesSkipped: number; fps: number; a: number[]; b: number[]; path: MorphPath };
  /** Runs n frames of the morph loop back to back through the same decode-and-draw path as playing; resolves with the milliseconds taken. */
  morphFrames(n: number): Promise<number>;
  /** Where new faces come from: the bundle's learned prior, or N(0, T²I) when it has none (or it failed to load). */
  readonly sampler: 'learned prior' | 'N(0, I)';
  readonly temperature: number;
}

declare global {
  interface Window {
    __faces?: FacesHook;
  }
}

function capitalise(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

/** "58", or "4.2" when slow enough for the decimal to matter. */
function formatFps(fps: number): string {
  return fps >= 10 ? fps.toFixed(0) : fps.toFixed(1);
}

function describeSliders(sliders: readonly SliderSetting[]): string {
  return sliders.map((s) => `${attributeLabel(s.name).toLowerCase()} ${formatWeight(s.value)}`).join(', ');
}

interface Endpoint {
  z: Float32Array;
  label: string;
}

interface ShowJob {
  z: Float32Array;
  base: Float32Array;
  key: string;
}

export function startFacesStudio(root: HTMLElement): FacesHook {
  const modelId = root.dataset.model ?? 'faces';
  const el = {
    notice: byId('notice'),
    noticeTitle: byId('notice-title'),
    noticeText: byId('notice-text'),
    noticeAction: byId<HTMLButtonElement>('notice-action'),
    linkNotice: byId('link-notice'),
    linkNoticeTitle: byId('link-notice-title'),
    linkNoticeText: byId('link-notice-text'),
    linkNoticeAction: byId<HTMLButtonElement>('link-notice-action'),
    loader: byId('loader'),
    loaderBar: byId('loader-bar'),
    loaderFill: byId('loader-fill'),
    loaderText: byId('loader-text'),
    face: byId<HTMLCanvasElement>('face'),
    faceName: byId('face-name'),
    faceSteer: byId('face-steer'),
    faceLive: byId('face-live'),
    generate: byId<HTMLButtonElement>('generate'),
    temperature: byId<HTMLInputElement>('temperature'),
    temperatureOut: byId<HTMLOutputElement>('temperature-out'),
    temperatureHelp: byId('temperature-help'),
    recent: byId<HTMLUListElement>('recent'),
    sliders: byId<HTMLUListElement>('sliders'),
    steerReset: byId<HTMLButtonElement>('steer-reset'),
    steerStatus: byId('steer-status'),
    steerRetry: byId<HTMLButtonElement>('steer-retry'),
    shareLink: byId<HTMLInputElement>('share-link'),
    copy: byId<HTMLButtonElement>('copy-link'),
    nativeShare: byId<HTMLButtonElement>('native-share'),
    shareState: byId('share-state'),
    pngSize: byId<HTMLSelectElement>('png-size'),
    downloadPng: byId<HTMLButtonElement>('download-png'),
    downloadMorph: byId<HTMLButtonElement>('download-morph'),
    downloadState: byId('download-state'),
    downloadRow: byId('download-row'),
    morph: byId<HTMLCanvasElement>('morph'),
    morphT: byId<HTMLInputElement>('morph-t'),
    morphTOut: byId<HTMLOutputElement>('morph-t-out'),
    morphPlay: byId<HTMLButtonElement>('morph-play'),
    morphDuration: byId<HTMLSelectElement>('morph-duration'),
    morphStats: byId('morph-stats'),
    status: byId('status'),
    statusText: byId('status-text'),
    facts: byId('model-facts'),
  };
  const endEls = (end: End) => ({
    canvas: byId<HTMLCanvasElement>(`morph-${end}`),
    label: byId(`morph-${end}-label`),
    recent: byId<HTMLSelectElement>(`morph-${end}-recent`),
    linkToggle: byId<HTMLButtonElement>(`morph-${end}-link`),
    form: byId<HTMLFormElement>(`morph-${end}-form`),
    input: byId<HTMLInputElement>(`morph-${end}-input`),
    error: byId(`morph-${end}-error`),
  });
  const ends = { a: endEls('a'), b: endEls('b') };

  const random = cryptoRandom();
  const request: BackendRequest = readBackendRequest(location.search);
  let engine: DecodeEngine | null = null;
  let backend: BackendName | null = null;
  let backendStatus = '';
  let statusState: 'ready' | 'fallback' = 'ready';
  let manifest: BundleManifest | null = null;
  let decoder: LatentDecoder | null = null;
  let attributes: AttributeList | null = null;
  let attributeProblem: string | null = null;
  let mix: MixClient | null = null;
  let order: string[] = [];
  let decodeCount = 0;
  const timings: number[] = [];

  let base: Float32Array = new Float32Array(0);
  const sliders = new Map<string, number>();
  let temperature = DEFAULT_TEMPERATURE;
  let prior: LatentPrior | null = null;
  let priorProblem: string | null = null;
  const recent = new RecentFaces(12);
  let currentSerial = 0;
  const thumbs = new Map<number, HTMLCanvasElement>();
  let shown: ShowJob | null = null;
  let addressLive = false;

  const endpoints: Record<End, Endpoint | null> = { a: null, b: null };
  let path: MorphPath = 'slerp';
  let pendingWork = 0;

  const faceCtx = pixelContext(el.face);
  const morphCtx = pixelContext(el.morph);
  let faceImage: ImageData | null = null;
  let morphImage: ImageData | null = null;

  const faceScheduler = new LatestOnly<ShowJob>((job) => showFace(job), undefined, (e) => reportTrouble(e));
  const player = new MorphPlayer((t) => renderMorph(t), Number(el.morphDuration.value) || 3000, undefined, (e) => reportTrouble(e));

  const { promise: ready, resolve: resolveReady, reject: rejectReady } = deferred();

  const hook: FacesHook = {
    ready,
    get backend() {
      return backend;
    },
    get where() {
      return engineFacts(engine).where;
    },
    get measured() {
      return engineFacts(engine).measured;
    },
    get decodeCount() {
      return decodeCount;
    },
    warmupMs: NaN,
    memory: async () => (engine ? engine.memory() : { numTensors: 0, numBytes: 0, numBytesInGPU: null, numBytesInGPUAllocated: null }),
    settled: async () => {
      const frame = () => new Promise((r) => requestAnimationFrame(() => r(null)));
      do {
        await frame();
        await frame();
      } while (!faceScheduler.idle || !(mix?.idle ?? true) || !player.idle || pendingWork > 0);
    },
    meanDecodeMs: () => (timings.length ? timings.reduce((a, b) => a + b, 0) / timings.length : NaN),
    face: () => ({ base: Array.from(base), sliders: currentSliders(), shown: shown ? Array.from(shown.z) : [], link: shareUrl() }),
    attributeNames: () => [...order],
    get mixRequests() {
      return mix?.requestCount ?? 0;
    },
    morph: () => ({
      t: player.t,
      playing: player.isPlaying,
      framesShown: player.framesShown,
      framesSkipped: player.framesSkipped,
      fps: player.fps,
      a: endpoints.a ? Array.from(endpoints.a.z) : [],
      b: endpoints.b ? Array.from(endpoints.b.z) : [],
      path,
    }),
    get sampler() {
      return prior && engine ? 'learned prior' : 'N(0, I)';
    },
    get temperature() {
      return temperature;
    },
    morphFrames: async (n) => {
      player.pause();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await renderMorph(tAtPhase((2 * i) / 120));
      return performance.now() - t0;
    },
  };
  window.__faces = hook;

  // ---- status, notices, progress

  function setStatus(text: string, state: 'loading' | 'ready' | 'fallback' | 'error'): void {
    el.statusText.textContent = text;
    el.status.dataset.state = state;
  }

  function showNotice(kind: 'warning' | 'error', title: string, text: string, action: { label: string; run: () => void } | null): void {
    el.notice.classList.toggle('notice--error', kind === 'error');
    el.noticeTitle.textContent = title;
    el.noticeText.textContent = text;
    el.noticeAction.hidden = !action;
    el.noticeAction.textContent = action?.label ?? '';
    el.noticeAction.onclick = action ? () => action.run() : null;
    el.notice.hidden = false;
  }

  function showLinkNotice(kind: 'warning' | 'error', title: string, text: string, action: { label: string; run: () => void } | null): void {
    el.linkNotice.classList.toggle('notice--error', kind === 'error');
    el.linkNoticeTitle.textContent = title;
    el.linkNoticeText.textContent = text;
    el.linkNoticeAction.hidden = !action;
    el.linkNoticeAction.textContent = action?.label ?? '';
    el.linkNoticeAction.onclick = action ? () => action.run() : null;
    el.linkNotice.hidden = false;
  }

  function reportTrouble(e: unknown): void {
    console.error(e);
    setStatus(`A decode failed: ${(e as Error).message ?? e}. Reload the page if the face stops changing.`, 'error');
  }

  function onProgress(s: ProgressSnapshot): void {
    showDownload(el, s);
  }

  let lastStatusUpdate = 0;
  function updateStatus(force = false): void {
    const now = performance.now();
    if (!backend || (!force && now - lastStatusUpdate < 500)) return;
    lastStatusUpdate = now;
    const mean = hook.meanDecodeMs();
    setStatus(`${backendStatus} ${Number.isFinite(mean) ? `${mean.toFixed(1)} ms per face.` : ''}`.trim(), statusState);
  }

  // ---- decoding

  async function decodeInto(z: Float32Array, image: ImageData): Promise<void> {
    // The decode's own time where it ran: a result that waited behind others in the worker is not a slower decode.
    const ms = await decoder!.decodeRgba(z, image.data);
    decodeCount++;
    timings.push(ms);
    if (timings.length > 100) timings.shift();
  }

  async function showFace(job: ShowJob): Promise<void> {
    if (!decoder || !faceImage) return;
    await decodeInto(job.z, faceImage);
    faceCtx.putImageData(faceImage, 0, 0);
    shown = job;
    const thumb = thumbs.get(currentSerial);
    if (thumb && job.base === base) thumb.getContext('2d')!.drawImage(el.face, 0, 0);
    describeFace();
    updateStatus();
  }

  async function decodeToCanvas(z: Float32Array, canvas: HTMLCanvasElement): Promise<void> {
    const image = new ImageData(manifest!.image.width, manifest!.image.height);
    await decodeInto(z, image);
    pixelContext(canvas).putImageData(image, 0, 0);
  }

  async function renderMorph(t: number): Promise<void> {
    if (!decoder || !morphImage || !endpoints.a || !endpoints.b) return;
    await decodeInto(morphPoint(endpoints.a.z, endpoints.b.z, t, path), morphImage);
    morphCtx.putImageData(morphImage, 0, 0);
    if (document.activeElement !== el.morphT || player.isPlaying) el.morphT.value = String(t);
    el.morphTOut.value = t.toFixed(2);
    el.morphT.setAttribute('aria-valuetext', `${Math.round((1 - t) * 100)}% face A, ${Math.round(t * 100)}% face B`);
    const fps = player.fps;
    if (player.isPlaying && Number.isFinite(fps)) el.morphStats.textContent = `${formatFps(fps)} frames per second`;
    updateStatus();
  }

  /** Keeps a piece of async work visible to settled(). */
  function track<T>(work: Promise<T>): Promise<T> {
    pendingWork++;
    return work.finally(() => pendingWork--);
  }

  // ---- the current face

  function currentSliders(): SliderSetting[] {
    return canonicalSliders(
      [...sliders].map(([name, value]) => ({ name, value })),
      order,
    );
  }

  function currentFace(): Face {
    return { base, sliders: currentSliders() };
  }

  function shareUrl(): string {
    if (!manifest || base.length === 0) return '';
    const f = currentFace();
    return `${location.origin}${location.pathname}?${encodeShareQuery({ z: f.base, sliders: f.sliders }, manifest.version)}`;
  }

  /** Shows base + mix(sliders): at once when the mix is known, else once the API answers. */
  function requestShow(): Promise<void> {
    if (!decoder) return Promise.resolve();
    const face = currentFace();
    const key = mixQuery(face.sliders);
    const v = mix?.cached(key) ?? (key === '' ? new Float32Array(base.length) : undefined);
    recent.update(currentSerial, face.sliders);
    updateShare();
    if (v) return faceScheduler.request({ z: addLatent(base, v), base, key });
    mix?.live(face.sliders);
    return Promise.resolve();
  }

  function onMixVector(key: string, vector: Float32Array): void {
    const want = mixQuery(currentSliders());
    // While a slider moves, any newer setting is better than none; once the wanted one is in, older answers are ignored.
    if (key === want || !mix?.cached(want)) void faceScheduler.request({ z: addLatent(base, vector), base, key });
    if (key === want) setSteerStatus(null);
  }

  function onMixError(key: string, e: ApiProblem): void {
    if (key !== mixQuery(currentSliders())) return;
    setSteerStatus(`${capitalise(e.message)}. The face shows the last setting that loaded.`, true);
  }

  function setSteerStatus(text: string | null, retry = false): void {
    el.steerStatus.textContent = text ?? '';
    el.steerStatus.hidden = !text;
    el.steerRetry.hidden = !retry;
  }

  /** The face on screen, as it is steered: its z once the mix is in. */
  async function currentShownZ(): Promise<Float32Array> {
    const face = currentFace();
    const key = mixQuery(face.sliders);
    if (shown && shown.base === base && shown.key === key) return shown.z;
    const v = key === '' ? new Float32Array(base.length) : await mix!.vector(face.sliders);
    return addLatent(base, v);
  }

  function describeFace(): void {
    const entry = recent.find(currentSerial);
    const name = entry ? `Face ${entry.serial}` : 'Face';
    const steer = describeSliders(currentSliders());
    el.faceName.textContent = name;
    el.faceSteer.textContent = steer ? `steered: ${steer}` : 'unsteered';
    el.face.setAttribute('aria-label', `${name}, decoded from a ${base.length}-dimensional latent point${steer ? `, steered: ${steer}` : ''}`);
  }

  function setFace(face: Face, how: 'new' | 'restore' | 'arrival'): Promise<void> {
    base = face.base;
    for (const name of sliders.keys()) sliders.set(name, 0);
    for (const s of face.sliders) sliders.set(s.name, sliderValue(s.value));
    const entry = recent.add({ base, sliders: currentSliders() });
    currentSerial = entry.serial;
    syncSliderInputs();
    renderRecent();
    if (how !== 'arrival') {
      addressLive = true;
      el.linkNotice.hidden = true;
    }
    if (how === 'new') el.faceLive.textContent = `New face: Face ${entry.serial}.`;
    if (how === 'restore') el.faceLive.textContent = `Back to Face ${entry.serial}.`;
    describeFace();
    return requestShow();
  }

  /** A new base point from the learned prior (drawn where the decoder runs), or N(0, T²I) without one. */
  function newBase(latentDim: number): Promise<Float32Array> {
    return drawBase(latentDim, temperature, random, prior && engine ? engine.sampler : null);
  }

  /**
   * A new face is a new draw from the prior, unsteered: the visitor sees what
   * the model samples at this temperature. The steered face it replaces keeps
   * its sliders in the recent strip, and the live region says so.
   */
  function generate(): void {
    if (!manifest) return;
    const previous = recent.find(currentSerial);
    const steered = currentSliders().length > 0;
    void track(
      newBase(manifest.latentDim).then(async (b) => {
        await setFace({ base: b, sliders: [] }, 'new');
        if (steered && previous) el.faceLive.textContent += ` Sliders back at 0; Face ${previous.serial} keeps its steering in the recent faces.`;
      }),
    );
  }

  // ---- address and sharing

  let addressTimer: ReturnType<typeof setTimeout> | null = null;
  let lastAddressWrite = 0;
  function updateShare(): void {
    el.shareLink.value = shareUrl();
    el.shareState.textContent = '';
    if (!addressLive || !manifest) return;
    // Browsers refuse replaceState called hundreds of times a second; a slider drag would be that.
    const write = () => {
      addressTimer = null;
      lastAddressWrite = performance.now();
      history.replaceState(history.state, '', `${location.pathname}${faceSearch(location.search, currentFace(), manifest!.version)}${location.hash}`);
    };
    if (addressTimer) return;
    const wait = Math.max(0, 250 - (performance.now() - lastAddressWrite));
    addressTimer = setTimeout(write, wait);
  }

  async function copyLink(): Promise<void> {
    const link = shareUrl();
    try {
      await navigator.clipboard.writeText(link);
      el.shareState.textContent = 'Link copied.';
    } catch {
      el.shareLink.focus();
      el.shareLink.select();
      el.shareState.textContent = 'Copying is blocked here; the link is selected, copy it with Ctrl+C or ⌘C.';
    }
  }

  // ---- sliders

  function buildSliders(list: AttributeList): void {
    el.sliders.replaceChildren(
      ...list.attributes.map((a) => {
        const id = `attr-${a.name}`;
        const li = document.createElement('li');
        li.className = 'faces-slider';
        li.dataset.name = a.name;
        const label = document.createElement('label');
        label.htmlFor = id;
        label.textContent = attributeLabel(a.name);
        label.title = `${a.positives.toLocaleString('en')} faces with, ${a.negatives.toLocaleString('en')} without; vector length ${a.norm.toFixed(2)}`;
        const out = document.createElement('output');
        out.htmlFor.add(id);
        out.id = `${id}-out`;
        out.className = 'mono faces-slider__value';
        out.value = formatWeight(0);
        const reset = document.createElement('button');
        reset.type = 'button';
        reset.className = 'faces-slider__reset';
        reset.textContent = 'Reset';
        reset.setAttribute('aria-label', `Reset ${attributeLabel(a.name)}`);
        reset.disabled = true;
        const input = document.createElement('input');
        input.type = 'range';
        input.className = 'faces-slider__range';
        input.id = id;
        input.min = String(SLIDER_MIN);
        input.max = String(SLIDER_MAX);
        input.step = String(SLIDER_STEP);
        input.value = '0';
        input.setAttribute('aria-valuetext', `${attributeLabel(a.name)} ${formatWeight(0)}`);
        input.addEventListener('input', () => setSlider(a.name, Number(input.value)));
        input.addEventListener('dblclick', () => setSlider(a.name, 0));
        reset.addEventListener('click', () => {
          setSlider(a.name, 0);
          input.focus();
        });
        paintCentredRange(input);
        const head = document.createElement('div');
        head.className = 'faces-slider__head';
        head.append(label, out);
        const control = document.createElement('div');
        control.className = 'faces-slider__control';
        control.append(input, reset);
        li.append(head, control);
        return li;
      }),
    );
    el.steerReset.disabled = false;
  }

  function syncSliderInputs(): void {
    let any = false;
    for (const li of el.sliders.querySelectorAll<HTMLLIElement>('li[data-name]')) {
      const name = li.dataset.name!;
      const value = sliders.get(name) ?? 0;
      any ||= value !== 0;
      const input = li.querySelector('input')!;
      if (Number(input.value) !== value) input.value = String(value);
      paintCentredRange(input);
      li.querySelector('output')!.value = formatWeight(value);
      input.setAttribute('aria-valuetext', `${attributeLabel(name)} ${formatWeight(value)}`);
      li.querySelector<HTMLButtonElement>('.faces-slider__reset')!.disabled = value === 0;
      li.classList.toggle('is-set', value !== 0);
    }
    el.steerReset.disabled = !any;
  }

  function setSlider(name: string, value: number): void {
    sliders.set(name, sliderValue(value));
    addressLive = true;
    syncSliderInputs();
    describeFace();
    void requestShow();
  }

  function resetAll(): void {
    for (const name of sliders.keys()) sliders.set(name, 0);
    addressLive = true;
    syncSliderInputs();
    describeFace();
    void requestShow();
  }

  // ---- recent strip

  function thumbFor(serial: number): HTMLCanvasElement {
    let c = thumbs.get(serial);
    if (!c) {
      c = document.createElement('canvas');
      c.width = manifest!.image.width;
      c.height = manifest!.image.height;
      c.className = 'faces-thumb';
      c.setAttribute('aria-hidden', 'true');
      thumbs.set(serial, c);
    }
    return c;
  }

  function renderRecent(): void {
    const live = new Set(recent.entries.map((e) => e.serial));
    for (const serial of thumbs.keys()) if (!live.has(serial)) thumbs.delete(serial);
    el.recent.replaceChildren(
      ...recent.entries.map((entry) => {
        const li = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'faces-recent__item';
        const isCurrent = entry.serial === currentSerial;
        if (isCurrent) button.setAttribute('aria-current', 'true');
        const steer = describeSliders(entry.sliders);
        button.setAttribute('aria-label', `Face ${entry.serial}${steer ? `, steered: ${steer}` : ''}${isCurrent ? ' (showing)' : ''}`);
        const tag = document.createElement('span');
        tag.className = 'faces-recent__tag';
        tag.textContent = String(entry.serial);
        tag.setAttribute('aria-hidden', 'true');
        button.append(thumbFor(entry.serial), tag);
        button.addEventListener('click', () => {
          const e = recent.find(entry.serial);
          if (!e || e.serial === currentSerial) return;
          void setFace({ base: e.base, sliders: e.sliders }, 'restore');
        });
        li.append(button);
        return li;
      }),
    );
    for (const end of ['a', 'b'] as const) {
      const select = ends[end].recent;
      select.replaceChildren(
        new Option('Recent face…', ''),
        ...recent.entries.map((e) => new Option(`Face ${e.serial}${e.serial === currentSerial ? ' (showing)' : ''}`, String(e.serial))),
      );
      select.value = '';
    }
  }

  // ---- morph

  async function setEndpoint(end: End, endpoint: Endpoint): Promise<void> {
    endpoints[end] = endpoint;
    ends[end].label.textContent = endpoint.label;
    ends[end].canvas.setAttribute('aria-label', `Face ${end.toUpperCase()}: ${endpoint.label}`);
    await decodeToCanvas(endpoint.z, ends[end].canvas);
    player.refresh();
  }

  /** `keep`: a random end joins the recent faces (and takes a number) only when the visitor asked for it, not the one drawn at start-up. */
  async function chooseEndpoint(end: End, source: 'current' | 'random' | { serial: number } | { link: string }, keep = true): Promise<void> {
    if (!manifest) return;
    ends[end].error.textContent = '';
    if (source === 'current') {
      const entry = recent.find(currentSerial);
      const steer = describeSliders(currentSliders());
      await setEndpoint(end, { z: await currentShownZ(), label: `Face ${entry?.serial ?? ''}${steer ? `, ${steer}` : ''}` });
    } else if (source === 'random') {
      const face: Face = { base: await newBase(manifest.latentDim), sliders: [] };
      if (!keep) return setEndpoint(end, { z: face.base, label: 'A random face' });
      const entry = recent.add(face);
      renderRecent();
      await setEndpoint(end, { z: face.base, label: `Face ${entry.serial} (random)` });
      thumbFor(entry.serial).getContext('2d')!.drawImage(ends[end].canvas, 0, 0);
    } else if ('serial' in source) {
      const entry = recent.find(source.serial);
      if (!entry) return;
      const v = entry.sliders.length ? await mix!.vector(entry.sliders) : new Float32Array(entry.base.length);
      const steer = describeSliders(entry.sliders);
      await setEndpoint(end, { z: addLatent(entry.base, v), label: `Face ${entry.serial}${steer ? `, ${steer}` : ''}` });
    } else {
      let search: string;
      try {
        search = new URL(source.link.trim(), location.href).search;
      } catch {
        ends[end].error.textContent = 'That is not a link. Paste a share link from this studio (it contains “?z=”).';
        return;
      }
      const arrival = readFacesArrival(search, { version: manifest.version, latentDim: manifest.latentDim, attributeNames: attributes ? order : null });
      if (arrival.kind === 'none') {
        ends[end].error.textContent = 'That link holds no face: a share link from this studio contains “?z=”.';
        return;
      }
      if (arrival.kind === 'invalid') {
        ends[end].error.textContent = arrival.message;
        return;
      }
      const sl = canonicalSliders(arrival.face.sliders, order);
      const v = sl.length ? await mix!.vector(sl) : new Float32Array(arrival.face.base.length);
      const entry = recent.add({ base: arrival.face.base, sliders: sl });
      renderRecent();
      await setEndpoint(end, { z: addLatent(arrival.face.base, v), label: `Face ${entry.serial} (from a link)` });
      thumbFor(entry.serial).getContext('2d')!.drawImage(ends[end].canvas, 0, 0);
      ends[end].form.hidden = true;
      ends[end].linkToggle.setAttribute('aria-expanded', 'false');
      ends[end].input.value = '';
      const kept = keptLinkNotice(arrival);
      if (kept) ends[end].error.textContent = kept.text;
    }
  }

  function runEndpointChoice(end: End, source: Parameters<typeof chooseEndpoint>[1]): void {
    void track(
      chooseEndpoint(end, source).catch((e: unknown) => {
        ends[end].error.textContent = `Could not set face ${end.toUpperCase()}: ${(e as Error).message ?? e}.`;
      }),
    );
  }

  function bindMorph(): void {
    for (const end of ['a', 'b'] as const) {
      const x = ends[end];
      for (const button of document.querySelectorAll<HTMLButtonElement>(`[data-end="${end}"][data-source]`)) {
        button.disabled = false;
        button.addEventListener('click', () => runEndpointChoice(end, button.dataset.source as 'current' | 'random'));
      }
      x.recent.disabled = false;
      x.recent.addEventListener('change', () => {
        const serial = Number(x.recent.value);
        if (serial) runEndpointChoice(end, { serial });
      });
      x.linkToggle.disabled = false;
      x.linkToggle.addEventListener('click', () => {
        const open = x.form.hidden;
        x.form.hidden = !open;
        x.linkToggle.setAttribute('aria-expanded', String(open));
        if (open) x.input.focus();
      });
      x.form.addEventListener('submit', (e) => {
        e.preventDefault();
        runEndpointChoice(end, { link: x.input.value });
      });
    }
    el.morphT.disabled = false;
    el.morphT.addEventListener('input', () => {
      setPlaying(false);
      player.seek(Number(el.morphT.value));
    });
    el.morphPlay.disabled = false;
    el.morphPlay.addEventListener('click', () => setPlaying(!player.isPlaying));
    for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="morph-path"]')) {
      radio.disabled = false;
      radio.addEventListener('change', () => {
        if (!radio.checked) return;
        path = radio.value === 'lerp' ? 'lerp' : 'slerp';
        player.refresh();
      });
    }
    el.morphDuration.disabled = false;
    el.morphDuration.addEventListener('change', () => player.setDuration(Number(el.morphDuration.value)));
  }

  function setPlaying(on: boolean): void {
    const wasPlaying = player.isPlaying;
    if (on) player.play();
    else player.pause();
    el.morphPlay.setAttribute('aria-pressed', String(on));
    el.morphPlay.textContent = on ? 'Pause' : 'Play';
    if (wasPlaying && !on && Number.isFinite(player.fps)) el.morphStats.textContent = `${formatFps(player.fps)} frames per second while playing`;
  }

  // ---- downloads

  function fillPngSizes(width: number): void {
    el.pngSize.replaceChildren(...exportSizes(width).map((s) => new Option(`${s} × ${s}`, String(s))));
    el.pngSize.value = String(exportSizes(width).find((s) => s >= 256) ?? width);
  }

  async function downloadPng(): Promise<void> {
    const size = Number(el.pngSize.value);
    const blob = await canvasBlob(drawScaled(el.face, size));
    saveBlob(blob, faceFileName(modelId, manifest!.version, currentFace(), size));
    el.downloadState.textContent = `Saved a ${size} × ${size} PNG.`;
  }

  /** The label of the video the morph button makes, or null when this browser can make none. */
  function videoLabel(): string | null {
    if (canEncodeWebm()) return 'WebM';
    return browserVideoFormat()?.label ?? null;
  }

  async function downloadMorph(): Promise<void> {
    if (!endpoints.a || !endpoints.b || !decoder || !manifest) return;
    const fps = 25;
    const legMs = Math.min(4000, player.duration);
    const positions = loopPositions(legMs, fps);
    const seconds = (positions.length / fps).toFixed(1);
    el.downloadMorph.disabled = true;
    try {
      el.downloadState.textContent = `Decoding ${positions.length} frames…`;
      const { width: w, height: h, channels } = manifest.image;
      const dim = manifest.latentDim;
      const points = new Float32Array(positions.length * dim);
      positions.forEach((t, i) => points.set(morphPoint(endpoints.a!.z, endpoints.b!.z, t, path), i * dim));
      const values = await decoder.decode(points);
      const frames = positions.map((_, i) => {
        const img = new ImageData(w, h);
        toRgba(values, channels as 1 | 3, img.data, i * decoder!.pixelsPerImage, w * h);
        return img;
      });
      const size = Math.min(512, Number(el.pngSize.value) || 256);
      const name = `${modelId}-${manifest.version}-morph-${size}px`;
      let blob: Blob | null = null;
      let label = 'WebM';
      let extension = 'webm';
      if (canEncodeWebm()) {
        el.downloadState.textContent = `Encoding ${positions.length} frames…`;
        const small = document.createElement('canvas');
        small.width = w;
        small.height = h;
        const smallCtx = small.getContext('2d')!;
        try {
          blob = await encodeWebm(frames.length, size, fps, (i, canvas) => {
            smallCtx.putImageData(frames[i]!, 0, 0);
            const ctx = canvas.getContext('2d')!;
            ctx.imageSmoothingEnabled = true;
            ctx.imageSmoothingQuality = 'high';
            ctx.drawImage(small, 0, 0, size, size);
          });
        } catch (e) {
          console.warn('WebCodecs could not encode the morph; recording it instead', e);
        }
      }
      if (!blob) {
        const format = browserVideoFormat();
        if (!format) throw new Error('this browser can neither encode nor record video');
        el.downloadState.textContent = `Recording ${seconds} s of video…`;
        blob = await recordFrames(frames, size, fps, format, el.downloadRow);
        label = format.label;
        extension = format.extension;
      }
      saveBlob(blob, `${name}.${extension}`);
      el.downloadState.textContent = `Saved a ${seconds}-second ${label} loop (${formatBytes(blob.size)}).`;
    } finally {
      el.downloadMorph.disabled = false;
    }
  }

  function setTemperature(t: number): void {
    temperature = t;
    el.temperature.value = String(t);
    el.temperatureOut.value = t.toFixed(2);
  }

  function bindControls(): void {
    el.generate.disabled = false;
    el.generate.addEventListener('click', () => generate());
    el.temperature.disabled = false;
    el.temperature.addEventListener('input', () => setTemperature(Number(el.temperature.value)));
    el.steerReset.addEventListener('click', () => resetAll());
    el.steerRetry.addEventListener('click', () => {
      setSteerStatus('Trying again…');
      if (!attributes) void loadAttributes().then(() => attributes && requestShow());
      else if (mix) mix.live(currentSliders());
    });
    el.copy.disabled = false;
    el.copy.addEventListener('click', () => void copyLink());
    el.shareLink.addEventListener('focus', () => el.shareLink.select());
    if (typeof navigator.share === 'function') {
      el.nativeShare.hidden = false;
      el.nativeShare.addEventListener('click', () => {
        navigator.share({ title: 'A face from Latent Atelier', url: shareUrl() }).catch((e: Error) => {
          if (e.name !== 'AbortError') el.shareState.textContent = `Sharing failed (${e.message}); copy the link instead.`;
        });
      });
    }
    el.pngSize.disabled = false;
    el.downloadPng.disabled = false;
    el.downloadPng.addEventListener('click', () => {
      downloadPng().catch((e: Error) => (el.downloadState.textContent = `The PNG could not be made: ${e.message}.`));
    });
    const video = videoLabel();
    if (video) {
      el.downloadMorph.hidden = false;
      el.downloadMorph.textContent = `Download morph (${video})`;
      el.downloadMorph.addEventListener('click', () => {
        void track(downloadMorph().catch((e: Error) => (el.downloadState.textContent = `The video could not be made: ${e.message}.`)));
      });
    }
  }

  // ---- facts

  function buildFacts(m: BundleManifest): void {
    const t = m.training;
    const test = m.metrics.test;
    const decoderDir = m.decoder.slice(0, m.decoder.lastIndexOf('/') + 1);
    const decoderBytes = Object.entries(m.files ?? {})
      .filter(([f]) => f.startsWith(decoderDir))
      .reduce((s, [, b]) => s + b, 0);
    const rows: [string, string, ('mono' | 'wide')?][] = [
      ['Dataset', `${m.dataset.name}: ${m.dataset.train.toLocaleString('en')} training, ${m.dataset.test.toLocaleString('en')} test images`],
      ['Latent space', samplerFact(m, prior, priorProblem)],
      ['Images', `${m.image.width} × ${m.image.height} pixels, ${m.image.channels === 3 ? 'colour' : 'grey'}`],
      ['Training', `${t.epochs} epoch${t.epochs === 1 ? '' : 's'}, batch ${t.batchSize}, ${betaText(t)}, on ${t.backend}`],
      ['Test loss (nats per image)', `−ELBO ${test.negElbo.toFixed(1)} = reconstruction ${test.reconstruction.toFixed(1)} + KL ${test.kl.toFixed(1)}`],
      ['Decoder', `${m.architecture ? `${m.architecture.parameters.decoder.toLocaleString('en')} parameters` : 'layers model'}${decoderBytes ? `, ${formatBytes(decoderBytes)}` : ''}`],
      ['Attribute directions', attributes ? `${attributes.attributes.length}, from the edge API` : 'unavailable right now'],
      ['Model version', m.version, 'mono'],
    ];
    if (m.architecture) rows.push(['Decoder layers', m.architecture.decoder.join(' → '), 'wide']);
    el.facts.replaceChildren(
      ...rows.map(([k, v, style]) => {
        const div = document.createElement('div');
        if (style === 'wide') div.className = 'faces-facts__wide';
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = v;
        if (style === 'mono') dd.className = 'mono';
        div.append(dt, dd);
        return div;
      }),
    );
  }

  // ---- start

  async function loadAttributes(): Promise<void> {
    if (!manifest) return;
    try {
      attributes = await fetchAttributeList((u, init) => fetch(u, { ...init, signal: AbortSignal.timeout(10_000) }), modelId, manifest);
      attributeProblem = null;
      order = attributes.attributes.map((a) => a.name);
      for (const name of order) if (!sliders.has(name)) sliders.set(name, 0);
      buildSliders(attributes);
      syncSliderInputs();
      setSteerStatus(order.length ? null : 'This model has no attribute directions to steer by.');
    } catch (e) {
      attributeProblem = (e as Error).message ?? String(e);
      setSteerStatus(`${capitalise(attributeProblem)}. The sliders are off until it answers; generating, morphing and sharing still work.`, true);
    }
    if (manifest) buildFacts(manifest);
  }

  /** What the address asks for: the face to show first (null: a new one, drawn once the sampler is ready), with any problem told to the visitor. */
  function arrivalFace(m: BundleManifest): Face | null {
    const arrival = readFacesArrival(location.search, { version: m.version, latentDim: m.latentDim, attributeNames: attributes ? order : null });
    if (arrival.kind === 'none') return null;
    if (arrival.kind === 'invalid') {
      showLinkNotice('error', 'This link could not be opened', `${arrival.message} Here is a fresh random face instead.`, {
        label: 'Another fresh face',
        run: () => generate(),
      });
      return null;
    }
    addressLive = true;
    const kept = keptLinkNotice(arrival);
    if (kept) showLinkNotice('warning', kept.title, kept.text, null);
    if (arrival.face.sliders.length && !attributes) {
      showLinkNotice(
        'warning',
        'The sliders in this link could not be applied',
        `${capitalise(attributeProblem ?? 'the attribute service did not answer')}. Showing the face without its settings (${describeSliders(arrival.face.sliders)}).`,
        null,
      );
      return { base: arrival.face.base, sliders: [] };
    }
    return arrival.face;
  }

  async function start(): Promise<void> {
    setStatus('Loading TensorFlow.js…', 'loading');
    el.loader.hidden = false;
    el.loaderText.textContent = 'Starting…';
    preloadDecodeWorker();
    let stage: ManifestStage;
    try {
      stage = await loadManifest(modelId, onProgress);
    } catch (e) {
      throw new Error(`the model could not be downloaded: ${(e as Error).message}`);
    }
    const m = stage.manifest;
    manifest = m;
    mix ??= new MixClient({
      fetcher: (u, init) => fetch(u, { ...init, signal: AbortSignal.timeout(10_000) }),
      modelId,
      version: m.version,
      latentDim: m.latentDim,
      onVector: onMixVector,
      onError: onMixError,
    });
    const artifactsLoading = decoder ? null : loadDecoderArtifacts(stage);
    artifactsLoading?.catch(() => {});
    const priorLoading = prior ? Promise.resolve(prior) : loadPrior(stage).catch((e: unknown) => {
      priorProblem = (e as Error).message ?? String(e);
      console.warn(`The learned prior did not load: ${priorProblem}`);
      return null;
    });
    if (!prior) setTemperature(defaultTemperature(m));
    if (!attributes) await loadAttributes();
    buildFacts(m);

    // A link is judged as soon as the manifest and the attribute list are in, while the decoder still downloads.
    const asked = arrivalFace(m);
    const firstSliders = canonicalSliders(asked?.sliders ?? [], order);
    const steering = firstSliders.length ? mix.vector(firstSliders) : null;
    steering?.catch(() => {});

    if (!decoder) {
      let artifacts;
      try {
        artifacts = await artifactsLoading!;
      } catch (e) {
        throw new Error(`the model could not be downloaded: ${(e as Error).message}`);
      }
      el.loaderText.textContent = 'Starting TensorFlow.js and timing the backends…';
      const started = await startDecodeEngine(request, artifacts, m.latentDim, m.image, { rememberAs: `${modelId}@${m.version}` });
      engine = started;
      const outcome = started.outcome;
      backend = outcome.used;
      ({ text: backendStatus, state: statusState } = engineStatus(started, request));
      setStatus(backendStatus, 'loading');
      if (statusState === 'fallback') {
        showNotice('warning', `Decoding without ${BACKEND_LABEL[outcome.failed[0]!.name]}`, `${backendStatus} Everything works, with fewer frames per second.`, null);
      }
      decoder = started.decoder;
      hook.warmupMs = outcome.warmupMs;
    }
    prior = await priorLoading;
    if (prior) engine!.sampler.setPrior(prior);
    el.temperatureHelp.textContent = temperatureHint(m, prior !== null);
    buildFacts(m);
    let first: Face = asked ?? { base: await newBase(m.latentDim), sliders: [] };
    const { width, height } = m.image;
    for (const c of [el.face, el.morph, ends.a.canvas, ends.b.canvas]) {
      c.width = width;
      c.height = height;
    }
    faceImage = new ImageData(width, height);
    morphImage = new ImageData(width, height);
    fillPngSizes(width);

    // The engine warmed the decoder up (shaders compiled) before it reported ready: no face appears before that.

    // The steered point must be known before the face is shown: a link restores exactly what was shared.
    if (steering) {
      try {
        await steering;
      } catch (e) {
        showLinkNotice('warning', 'The sliders in this link could not be applied', `${capitalise((e as Error).message)}. Showing the face without them.`, null);
        first = { base: first.base, sliders: [] };
      }
    }
    await setFace(first, 'arrival');

    bindControls();
    el.loader.hidden = true;
    root.setAttribute('aria-busy', 'false');
    updateStatus(true);
    resolveReady();

    bindMorph();
    void track(
      (async () => {
        await chooseEndpoint('a', 'current');
        await chooseEndpoint('b', 'random', false);
      })().catch((e: unknown) => {
        ends.b.error.textContent = `The morph could not start: ${(e as Error).message ?? e}.`;
      }),
    );
  }

  function attempt(): void {
    el.notice.hidden = true;
    start().catch((e: unknown) => {
      console.error(e);
      const message = (e as Error).message ?? String(e);
      el.loader.hidden = true;
      const canRetry = !decoder || !faceImage;
      showNotice('error', `The ${modelId} studio could not start`, `${capitalise(message)}.${canRetry ? ' Check the connection and try again.' : ' Reload the page to try again.'}`, {
        label: 'Try again',
        run: () => (canRetry ? attempt() : location.reload()),
      });
      setStatus('Not running.', 'error');
      if (!canRetry) rejectReady(e);
    });
  }

  attempt();
  return hook;
}
