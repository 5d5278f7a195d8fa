/**
 * The digits studio: loads the bundle, starts a backend, warms the decoder up,
 * then turns pointer, touch and keyboard input on the latent map into decoded
 * digits, one decode per animation frame at most. Start-up milestones are
 * left as performance marks (atelier:manifest, :backend, :model, :warm, :ready).
 */
import { byId, deferred, showDownload } from './page-kit.ts';
import { betaText, type BundleManifest, type LatentMap } from '../../lib/bundle.ts';
import { readBackendRequest, type BackendName } from './backend-choice.ts';
import { loadDecoderArtifacts, loadLatentMap, loadManifest } from './bundle-loader.ts';
import type { LatentDecoder } from './decoder.ts';
import { engineFacts, engineStatus, preloadDecodeWorker, startDecodeEngine, type DecodeEngine } from './remote-decoder.ts';
import { LatestOnly } from './latest-only.ts';
import { latentExtent, stepPoint, type ArrowKey } from './map-transform.ts';
import { MapView } from './map-view.ts';
import { pixelContext } from './pixel-canvas.ts';
import { classColor, classCounts, gridCellAt, gridSheet, neighbourhoodLabel, parseLatentMap, sheetRowOrder, toRgba, visibleRows, type GridSheet } from './plane-data.ts';
import { formatBytes, type ProgressSnapshot } from './progress.ts';
import { displayPoint, formatCoordinate, pinnedSearch, readArrival } from './share-state.ts';
import { OTHER_VERSION_TITLE } from '../../lib/latent-url.ts';

type Point = [number, number];

/** A point asked for on the map, or something the decoder finished: that point shown, a row (or all) of an n x n sheet. */
export interface SheetEvent {
  seq: number;
  what: 'request' | 'point' | 'sheet-row' | 'sheet-done';
  n?: number;
  row?: number;
  /** Rows decoded together share a batch number. */
  batch?: number;
}

/** What tests (and curious visitors) can read from the console: `window.__atelier`. */
export interface AtelierHook {
  /** Resolves once the decoder is warm and the first point is shown; rejects if the studio could not start. */
  ready: Promise<void>;
  readonly backend: BackendName | null;
  /** Where decodes run: in a worker, or on the page's thread when no worker could start. */
  readonly where: 'worker' | 'page' | null;
  /** Milliseconds per decode of each backend timed at start-up (empty when ?backend= forced one). */
  readonly measured: { name: BackendName; ms: number }[];
  readonly decodeCount: number;
  readonly gridCount: number;
  readonly pinned: Point;
  readonly shown: Point;
  /** Live tensors where the decoder runs. */
  numTensors(): Promise<number>;
  /** Decodes and shows a point now, bypassing the frame scheduler (rounded to float16 like any shown point). */
  decode(z1: number, z2: number): Promise<void>;
  /** Resolves when no decode is pending or running, the grid included. */
  settled(): Promise<void>;
  /** Mean milliseconds per single-point decode (after the warm-up), over the last 100. */
  meanDecodeMs(): number;
  warmupMs: number;
  /** Client coordinates of a latent point on the map. */
  clientAt(z1: number, z2: number): Point;
  /**
   * The map's requests and what the decoder finished, in order (the last
   * 300): a point asked for, a point shown, a row of the sheet drawn, the
   * sheet complete. `seq` counts from the start.
   */
  readonly events: readonly SheetEvent[];
}

declare global {
  interface Window {
    __atelier?: AtelierHook;
  }
}

const ARROWS = new Set(['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown']);
/** About how long one batch of the sheet may keep the decoder from the pointer. */
const SHEET_BATCH_MS = 60;

export function startDigitsStudio(root: HTMLElement): AtelierHook {
  const modelId = root.dataset.model ?? 'digits';
  const el = {
    notice: byId('notice'),
    noticeTitle: byId('notice-title'),
    noticeText: byId('notice-text'),
    loader: byId('loader'),
    loaderBar: byId('loader-bar'),
    loaderFill: byId('loader-fill'),
    loaderText: byId('loader-text'),
    map: byId('map'),
    mapPoints: byId<HTMLCanvasElement>('map-points'),
    mapOverlay: byId<HTMLCanvasElement>('map-overlay'),
    digit: byId<HTMLCanvasElement>('digit'),
    mapCard: byId('map-card'),
    peek: byId<HTMLCanvasElement>('digit-peek'),
    digitMode: byId('digit-mode'),
    z1: byId('z1'),
    z2: byId('z2'),
    neighbourhood: byId('neighbourhood'),
    pointLive: byId('point-live'),
    copy: byId<HTMLButtonElement>('copy-link'),
    copyState: byId('copy-state'),
    legend: byId('legend'),
    status: byId('status'),
    statusText: byId('status-text'),
    gridN: byId<HTMLInputElement>('grid-n'),
    gridOut: byId<HTMLOutputElement>('grid-n-out'),
    grid: byId<HTMLCanvasElement>('grid'),
    gridCaption: byId('grid-caption'),
    facts: byId('model-facts'),
  };

  let backend: BackendName | null = null;
  let backendStatus = '';
  let statusState: 'ready' | 'fallback' = 'ready';
  let decodeCount = 0;
  let gridCount = 0;
  let pinned: Point = [0, 0];
  let shown: Point = [0, 0];
  let cursor: Point | null = null;
  let pressed = false;
  let decoder: LatentDecoder | null = null;
  let engine: DecodeEngine | null = null;
  let view: MapView | null = null;
  let latentMap: LatentMap | null = null;
  let manifest: BundleManifest | null = null;
  let sheet: GridSheet | null = null;
  let gridWork: Promise<void> = Promise.resolve();
  const timings: number[] = [];
  const digitCtx = pixelContext(el.digit);
  const peekCtx = pixelContext(el.peek);
  let digitImage: ImageData | null = null;
  const events: SheetEvent[] = [];
  let eventSeq = 0;
  function logEvent(event: Omit<SheetEvent, 'seq'>): void {
    events.push({ seq: ++eventSeq, ...event });
    if (events.length > 300) events.shift();
  }

  const scheduler = new LatestOnly<Point>((z) => show(z), undefined, (e) => reportTrouble(e));
  const gridScheduler = new LatestOnly<number>((n) => renderGrid(n), undefined, (e) => reportTrouble(e));

  // tfjs is the bulk of the page's code: the worker fetches and compiles it while the bundle downloads.
  preloadDecodeWorker();

  const { promise: ready, resolve: resolveReady, reject: rejectReady } = deferred();

  const hook: AtelierHook = {
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
    get gridCount() {
      return gridCount;
    },
    get pinned() {
      return [...pinned] as Point;
    },
    get shown() {
      return [...shown] as Point;
    },
    numTensors: async () => (engine ? (await engine.memory()).numTensors : 0),
    decode: (z1, z2) => show(displayPoint(z1, z2)),
    settled: async () => {
      const frame = () => new Promise((r) => requestAnimationFrame(() => r(null)));
      // Two frames first: observers (the lazy grid) report during rendering, after rAF callbacks.
      do {
        await frame();
        await frame();
        await gridWork;
      } while (!scheduler.idle || !gridScheduler.idle);
    },
    meanDecodeMs: () => (timings.length ? timings.reduce((a, b) => a + b, 0) / timings.length : NaN),
    warmupMs: NaN,
    clientAt: (z1, z2) => (view ? view.clientAt(z1, z2) : [NaN, NaN]),
    get events() {
      return events.map((e) => ({ ...e }));
    },
  };
  window.__atelier = hook;

  function setStatus(text: string, state: 'loading' | 'ready' | 'fallback' | 'error'): void {
    el.statusText.textContent = text;
    el.status.dataset.state = state;
  }

  function showNotice(kind: 'warning' | 'error', title: string, text: string): void {
    el.notice.classList.toggle('notice--error', kind === 'error');
    el.noticeTitle.textContent = title;
    el.noticeText.textContent = text;
    el.notice.hidden = false;
  }

  function reportTrouble(e: unknown): void {
    console.error(e);
    setStatus(`A decode failed: ${(e as Error).message ?? e}. Reload the page if the digit stops following the pointer.`, 'error');
  }

  function onProgress(s: ProgressSnapshot): void {
    showDownload(el, s);
  }

  /** Decodes z into the large canvas and brings the read-out and the map overlay along. */
  async function show(z: Point): Promise<void> {
    if (!decoder || !digitImage) return;
    // The decode's own time where it ran, not the wait for it (see LatentDecoder.decodeRgba).
    const ms = await decoder.decodeRgba(Float32Array.of(z[0], z[1]), digitImage.data);
    digitCtx.putImageData(digitImage, 0, 0);
    peekCtx.putImageData(digitImage, 0, 0);
    logEvent({ what: 'point' });
    decodeCount++;
    timings.push(ms);
    if (timings.length > 100) timings.shift();
    shown = z;
    updateReadout();
  }

  function request(z: Point): void {
    logEvent({ what: 'request' });
    void scheduler.request(z);
  }

  function samePoint(a: Point | null, b: Point | null): boolean {
    return !!a && !!b && a[0] === b[0] && a[1] === b[1];
  }

  let lastStatusUpdate = 0;
  function updateReadout(): void {
    el.z1.textContent = formatCoordinate(shown[0]);
    el.z2.textContent = formatCoordinate(shown[1]);
    const isPinned = cursor === null && samePoint(shown, pinned);
    el.digitMode.textContent = isPinned ? 'pinned' : 'exploring';
    el.digit.setAttribute('aria-label', `Decoded digit at z1 = ${formatCoordinate(shown[0])}, z2 = ${formatCoordinate(shown[1])}${isPinned ? ' (pinned)' : ''}`);
    el.neighbourhood.textContent = describeNeighbourhood(shown);
    view?.drawOverlay({ pinned, cursor });
    const now = performance.now();
    if (now - lastStatusUpdate > 500 && backend) {
      lastStatusUpdate = now;
      const mean = hook.meanDecodeMs();
      setStatus(`${backendStatus} ${Number.isFinite(mean) ? `${mean.toFixed(1)} ms per decode.` : ''}`.trim(), statusState);
    }
  }

  function describeNeighbourhood(z: Point): string {
    if (!latentMap) return '—';
    const n = neighbourhoodLabel(latentMap, z[0], z[1]);
    if (!n) return '—';
    if (n.nearest > 0.75) return `none close by (nearest ${n.nearest.toFixed(2)} away): the decoder is extrapolating`;
    return `mostly “${latentMap.classes[n.label]}” (${Math.round(n.share * 100)}% of the ${n.k} nearest)`;
  }

  function announce(prefix: string, z: Point): void {
    el.pointLive.textContent = `${prefix} z1 ${formatCoordinate(z[0], 2)}, z2 ${formatCoordinate(z[1], 2)}. Nearby: ${describeNeighbourhood(z)}.`;
  }

  function pin(z: Point): void {
    pinned = z;
    cursor = null;
    exploring(false);
    if (manifest) {
      history.replaceState(history.state, '', `${location.pathname}${pinnedSearch(location.search, z, manifest.version)}${location.hash}`);
    }
    el.notice.hidden = true;
    el.copyState.textContent = '';
    announce('Pinned', z);
    request(z);
  }

  /**
   * On a narrow screen the decoded digit sits below the map, out of sight
   * while a finger explores: a small copy floats over the map's top corner
   * away from the pointer (the page's CSS shows it only on narrow screens).
   */
  function exploring(on: boolean, clientX?: number): void {
    if (!on) {
      delete el.mapCard.dataset.exploring;
      return;
    }
    el.mapCard.dataset.exploring = '';
    if (clientX !== undefined) {
      const r = el.map.getBoundingClientRect();
      el.mapCard.dataset.peekSide = clientX > r.left + r.width / 2 ? 'left' : 'right';
    }
  }

  function moveCursor(z: Point, clientX?: number): void {
    cursor = z;
    exploring(true, clientX);
    request(z);
  }

  function leave(): void {
    cursor = null;
    exploring(false);
    request(pinned);
  }

  function bindMap(): void {
    const map = el.map;
    const pointAt = (e: PointerEvent): Point => {
      const [a, b] = view!.latentAt(e.clientX, e.clientY);
      return displayPoint(a, b);
    };
    map.addEventListener('pointerdown', (e) => {
      if (!view || e.button !== 0) return;
      pressed = true;
      if (e.pointerType !== 'mouse') map.setPointerCapture(e.pointerId);
      moveCursor(pointAt(e), e.clientX);
    });
    map.addEventListener('pointermove', (e) => {
      if (!view || (e.pointerType !== 'mouse' && !pressed)) return;
      moveCursor(pointAt(e), e.clientX);
    });
    map.addEventListener('pointerup', (e) => {
      if (!view || !pressed) return;
      pressed = false;
      pin(pointAt(e));
    });
    map.addEventListener('pointercancel', () => {
      pressed = false;
      leave();
    });
    map.addEventListener('pointerleave', (e) => {
      if (e.pointerType === 'mouse' && !pressed) leave();
    });
    map.addEventListener('keydown', (e) => {
      if (!view) return;
      if (ARROWS.has(e.key)) {
        e.preventDefault();
        const z = stepPoint(view.extent, cursor ?? pinned, e.key as ArrowKey, e.shiftKey);
        moveCursor(displayPoint(z[0], z[1]));
        announce('At', cursor!);
      } else if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        pin(cursor ?? pinned);
      } else if (e.key === 'Escape') {
        leave();
      } else if (e.key === '0' || e.key === 'Home') {
        e.preventDefault();
        moveCursor(displayPoint(0, 0));
        announce('At', cursor!);
      }
    });
    map.addEventListener('blur', () => {
      if (cursor && !pressed) leave();
    });
    let resizeQueued = false;
    new ResizeObserver(() => {
      if (resizeQueued) return;
      resizeQueued = true;
      requestAnimationFrame(() => {
        resizeQueued = false;
        view?.resize();
      });
    }).observe(map);
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => view?.resize());
  }

  function buildLegend(data: LatentMap): void {
    const counts = classCounts(data);
    el.legend.replaceChildren(
      ...data.classes.map((name, i) => {
        const li = document.createElement('li');
        li.className = 'legend__item';
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'legend__button';
        button.setAttribute('aria-pressed', 'false');
        button.setAttribute('aria-label', `${name}: ${counts[i]} test digits; highlight`);
        const swatch = document.createElement('span');
        swatch.className = 'legend__swatch';
        swatch.style.background = classColor(i);
        button.append(swatch, document.createTextNode(name));
        button.addEventListener('click', () => {
          const on = button.getAttribute('aria-pressed') !== 'true';
          for (const b of el.legend.querySelectorAll('button')) b.setAttribute('aria-pressed', 'false');
          button.setAttribute('aria-pressed', String(on));
          view?.highlight(on ? i : null);
        });
        li.append(button);
        return li;
      }),
    );
  }

  function buildFacts(m: BundleManifest, points: number): void {
    const t = m.training;
    const test = m.metrics.test;
    const decoderBytes = Object.entries(m.files ?? {})
      .filter(([f]) => f.startsWith(m.decoder.slice(0, m.decoder.lastIndexOf('/') + 1)))
      .reduce((s, [, b]) => s + b, 0);
    const rows: [string, string, ('mono' | 'wide')?][] = [
      ['Dataset', `${m.dataset.name}: ${m.dataset.train.toLocaleString('en')} training, ${m.dataset.test.toLocaleString('en')} test images`],
      ['Map', `${points.toLocaleString('en')} encoded test digits (encoder means)`],
      ['Training', `${t.epochs} epoch${t.epochs === 1 ? '' : 's'}, batch ${t.batchSize}, ${betaText(t)}, ${formatDuration(t.seconds)} on ${t.backend}`],
      ['Test loss (nats per image)', `−ELBO ${test.negElbo.toFixed(1)} = reconstruction ${test.reconstruction.toFixed(1)} + KL ${test.kl.toFixed(1)}`],
      ['Decoder', `${m.architecture ? `${m.architecture.parameters.decoder.toLocaleString('en')} parameters` : 'layers model'}${decoderBytes ? `, ${formatBytes(decoderBytes)}` : ''}`],
      ['Model version', m.version, 'mono'],
    ];
    if (m.architecture) rows.push(['Decoder layers', m.architecture.decoder.join(' → '), 'wide']);
    el.facts.replaceChildren(
      ...rows.map(([k, v, style]) => {
        const div = document.createElement('div');
        if (style === 'wide') div.className = 'facts__wide';
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

  /**
   * Decodes the sheet a few rows at a time, rows on screen first. The map's
   * decodes share the decoder and go first: before each batch of rows the
   * sheet waits until no point is waiting or decoding, so the pointer waits
   * for one batch at most, never for the whole sheet. Batches are sized to
   * take about SHEET_BATCH_MS (one row on a slow backend, many on a GPU). A
   * newer sheet size abandons this one.
   */
  async function renderGrid(n: number): Promise<void> {
    if (!decoder) return;
    const work = (async () => {
      const next = gridSheet(n);
      const { height: h, width: w, channels } = decoder!.image;
      const per = decoder!.pixelsPerImage;
      el.grid.width = n * w;
      el.grid.height = n * h;
      const ctx = pixelContext(el.grid);
      sheet = next;
      const done = new Set<number>();
      const tile = new Uint8ClampedArray(w * h * 4);
      let rowsPerBatch = 1;
      let batch = 0;
      while (done.size < n) {
        await scheduler.whenIdle();
        if (gridScheduler.waiting) return;
        const r = el.grid.getBoundingClientRect();
        const rows = sheetRowOrder(n, visibleRows(n, r.top, r.height, innerHeight)).filter((i) => !done.has(i)).slice(0, rowsPerBatch);
        const points = new Float32Array(rows.length * n * 2);
        rows.forEach((row, k) => points.set(next.points.subarray(2 * row * n, 2 * (row + 1) * n), k * n * 2));
        const t0 = performance.now();
        const values = await decoder!.decode(points);
        const msPerRow = (performance.now() - t0) / rows.length;
        batch++;
        rows.forEach((row, k) => {
          const image = new ImageData(n * w, h);
          for (let c = 0; c < n; c++) {
            toRgba(values, channels as 1 | 3, tile, (k * n + c) * per, w * h);
            for (let y = 0; y < h; y++) image.data.set(tile.subarray(y * w * 4, (y + 1) * w * 4), (y * n * w + c * w) * 4);
          }
          ctx.putImageData(image, 0, row * h);
          done.add(row);
          logEvent({ what: 'sheet-row', n, row, batch });
        });
        rowsPerBatch = Math.max(1, Math.min(n, Math.floor(SHEET_BATCH_MS / Math.max(msPerRow, 0.1))));
      }
      el.grid.setAttribute('aria-label', `Grid of ${n} by ${n} decoded digits at the prior's quantiles, z1 from ${formatCoordinate(next.axis[0]!, 2)} to ${formatCoordinate(next.axis[n - 1]!, 2)}`);
      gridCount++;
      logEvent({ what: 'sheet-done', n });
    })();
    gridWork = work.catch(() => {});
    await work;
  }

  function bindGrid(): void {
    el.gridN.disabled = false;
    el.gridN.addEventListener('input', () => {
      el.gridOut.value = el.gridN.value;
      void gridScheduler.request(Number(el.gridN.value));
    });
    const cellPoint = (e: MouseEvent): Point | null => {
      if (!sheet) return null;
      const r = el.grid.getBoundingClientRect();
      const cell = gridCellAt(sheet.n, r.width, e.clientX - r.left, e.clientY - r.top);
      if (!cell) return null;
      const i = 2 * (cell.row * sheet.n + cell.col);
      return [sheet.points[i]!, sheet.points[i + 1]!];
    };
    const defaultCaption = el.gridCaption.textContent;
    el.grid.addEventListener('mousemove', (e) => {
      const z = cellPoint(e);
      el.gridCaption.textContent = z ? `z1 = ${formatCoordinate(z[0])}, z2 = ${formatCoordinate(z[1])} — click to pin` : defaultCaption;
    });
    el.grid.addEventListener('mouseleave', () => {
      el.gridCaption.textContent = defaultCaption;
    });
    el.grid.addEventListener('click', (e) => {
      const z = cellPoint(e);
      if (!z) return;
      pin(z);
      el.map.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    });
  }

  async function start(): Promise<void> {
    const request = readBackendRequest(location.search);
    setStatus('Loading TensorFlow.js…', 'loading');
    // tfjs (in the worker), the manifest and then the bundle's files all load side by side;
    // a bad link is reported as soon as the manifest is in.
    const stage = await loadManifest(modelId, onProgress);
    manifest = stage.manifest;
    performance.mark('atelier:manifest');
    if (manifest.latentDim !== 2) throw new Error(`the ${modelId} model has ${manifest.latentDim} latent dimensions; this studio draws a 2-D plane`);
    const arrival = readArrival(location.search, manifest);
    if (arrival.kind === 'invalid') {
      showNotice('error', 'This link could not be opened', `${arrival.message} Showing the centre of the plane instead.`);
    } else if (arrival.kind === 'other-version') {
      showNotice('warning', OTHER_VERSION_TITLE, arrival.message);
    }
    pinned = arrival.kind === 'point' || arrival.kind === 'other-version' ? displayPoint(arrival.z[0], arrival.z[1]) : displayPoint(0, 0);

    const artifactsLoading = loadDecoderArtifacts(stage);
    artifactsLoading.catch(() => {});
    const mapJson = await loadLatentMap(stage);
    if (mapJson === null) throw new Error(`the ${modelId} manifest names no latent map to draw`);
    latentMap = parseLatentMap(mapJson);
    view = new MapView(el.map, el.mapPoints, el.mapOverlay, latentMap, latentExtent(latentMap.z));
    view.resize();
    view.drawOverlay({ pinned, cursor: null });
    buildLegend(latentMap);
    buildFacts(manifest, latentMap.label.length);

    const artifacts = await artifactsLoading;
    performance.mark('atelier:model');
    el.loaderText.textContent = 'Starting TensorFlow.js and timing the backends…';
    engine = await startDecodeEngine(request, artifacts, manifest.latentDim, manifest.image, { rememberAs: `${modelId}@${manifest.version}` });
    performance.mark('atelier:backend');
    const outcome = engine.outcome;
    backend = outcome.used;
    ({ text: backendStatus, state: statusState } = engineStatus(engine, request));
    setStatus(backendStatus, 'loading');
    decoder = engine.decoder;
    el.digit.width = el.peek.width = manifest.image.width;
    el.digit.height = el.peek.height = manifest.image.height;
    digitImage = new ImageData(manifest.image.width, manifest.image.height);
    // The engine warmed the decoder up (shaders compiled) before it reported ready.
    hook.warmupMs = outcome.warmupMs;
    performance.mark('atelier:warm');
    await show(pinned);
    bindMap();
    el.map.setAttribute('aria-busy', 'false');
    el.copy.disabled = false;
    el.loader.hidden = true;
    lastStatusUpdate = 0;
    updateReadout();
    performance.mark('atelier:ready');
    resolveReady();

    bindGrid();
    // The sheet decodes hundreds of digits at once: do it only when the visitor gets near it.
    const sheetObserver = new IntersectionObserver(
      (entries) => {
        if (!entries.some((e) => e.isIntersecting)) return;
        sheetObserver.disconnect();
        void gridScheduler.request(Number(el.gridN.value));
      },
      { rootMargin: '200px' },
    );
    sheetObserver.observe(el.grid);
  }

  el.copy.addEventListener('click', async () => {
    // The pinned point's link, even while the pointer explores elsewhere.
    const link = manifest ? `${location.origin}${location.pathname}${pinnedSearch(location.search, pinned, manifest.version)}` : location.href;
    try {
      await navigator.clipboard.writeText(link);
      el.copyState.textContent = 'Link copied.';
    } catch {
      el.copyState.textContent = 'Copying is blocked here; the address bar holds the link.';
    }
  });

  start().catch((e: unknown) => {
    console.error(e);
    const message = (e as Error).message ?? String(e);
    el.loader.hidden = true;
    el.map.setAttribute('aria-busy', 'false');
    showNotice('error', `The ${modelId} studio could not start`, `${message[0]?.toUpperCase() ?? ''}${message.slice(1)}. Reload the page to try again.`);
    setStatus('Not running.', 'error');
    rejectReady(e);
  });

  return hook;
}

function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
