/**
 * The shell every studio shares: the status line, the notice, the download
 * bar, starting the decode engine and saying what runs it, the decodes' own
 * timings, the start-up that can fail (and be retried), and the `ready`
 * promise the test hooks hand out. A studio keeps its own controls; this
 * keeps what the digits, faces and anomaly pages would otherwise each write.
 */
import type { io } from '@tensorflow/tfjs-core';
import type { BundleManifest } from '../../../lib/bundle.ts';
import { BACKEND_LABEL, readBackendRequest, type BackendName, type BackendRequest } from '../engine/backend-choice.ts';
import type { LatentDecoder } from '../engine/decoder.ts';
import type { ProgressSnapshot } from '../engine/progress.ts';
import { engineStatus, preloadDecodeWorker, startDecodeEngine, type DecodeEngine } from '../engine/remote-decoder.ts';
import { loaderElements, showDownload, type LoaderElements } from './loader.ts';
import { hideNotice, noticeElements, showNotice, startFailureNotice, type Notice, type NoticeElements } from './notice.ts';
import { byId, deferred, errorMessage } from './page-kit.ts';
import { liveStatusText, setStatus, Throttle, type StatusElements, type StatusState } from './status.ts';
import { DecodeTimings } from './timings.ts';

export interface ShellElements {
  status: StatusElements;
  notice: NoticeElements;
  loader: LoaderElements;
}

/** The shell's elements by id; without `statusText` the status element holds the words itself. */
export function shellElements(ids: { status: string; statusText?: string; notice: string; loader: string }): ShellElements {
  const status = byId(ids.status);
  return {
    status: { status, text: ids.statusText ? byId(ids.statusText) : status },
    notice: noticeElements(ids.notice),
    loader: loaderElements(ids.loader),
  };
}

export interface ShellOptions {
  modelId: string;
  /** What the status line's live time is per: "face", "decode". */
  perWhat?: string;
  /** What the visitor sees go wrong after a failed decode: "the face stops changing". */
  stuck?: string;
  /** What the download bar says it downloads. */
  downloading?: string;
}

export class StudioShell {
  /** Settled once the studio is usable, or rejected when it cannot start (the test hooks hand out its promise). */
  readonly ready = deferred();
  readonly timings = new DecodeTimings();
  readonly request: BackendRequest;
  engine: DecodeEngine | null = null;
  backend: BackendName | null = null;
  warmupMs = NaN;
  private engineText = '';
  private engineState: 'ready' | 'fallback' = 'ready';
  private readonly statusThrottle = new Throttle(500);

  constructor(
    readonly el: ShellElements,
    readonly options: ShellOptions,
    search: string = location.search,
  ) {
    this.request = readBackendRequest(search);
  }

  get modelId(): string {
    return this.options.modelId;
  }

  /** The started engine's decoder, or null until it runs. */
  get decoder(): LatentDecoder | null {
    return this.engine?.decoder ?? null;
  }

  setStatus(text: string, state?: StatusState): void {
    setStatus(this.el.status, text, state);
  }

  showNotice(notice: Notice): void {
    showNotice(this.el.notice, notice);
  }

  hideNotice(): void {
    hideNotice(this.el.notice);
  }

  readonly onProgress = (s: ProgressSnapshot): void => showDownload(this.el.loader, s, this.options.downloading);

  /** Loading starts (or starts again): the status line says so, the bar shows, and the decode worker fetches tfjs meanwhile. */
  begin(): void {
    this.setStatus('Loading TensorFlow.js…', 'loading');
    this.el.loader.loader.hidden = false;
    this.el.loader.loaderText.textContent = 'Starting…';
    preloadDecodeWorker();
  }

  /** Loading is over: the bar goes. */
  loaded(): void {
    this.el.loader.loader.hidden = true;
  }

  /**
   * Start-up is done: the bar goes, `busy` (the part that waited) is no
   * longer aria-busy, the status line shows the live time, and `ready` resolves.
   */
  started(busy: HTMLElement): void {
    this.loaded();
    busy.setAttribute('aria-busy', 'false');
    this.updateStatus(true);
    this.ready.resolve();
  }

  /**
   * Starts the decode engine (timing the backends unless the address forced
   * one, remembering the choice per model version) and says what runs it.
   * The engine warms the decoder up (shaders compiled) before it answers.
   * `noticeFallback`: a backend that should have worked and did not also gets a notice.
   */
  async startEngine(artifacts: io.ModelArtifacts, m: BundleManifest, opts: { noticeFallback?: boolean } = {}): Promise<DecodeEngine> {
    this.el.loader.loaderText.textContent = 'Starting TensorFlow.js and timing the backends…';
    const engine = await startDecodeEngine(this.request, artifacts, m.latentDim, m.image, { rememberAs: `${this.modelId}@${m.version}` });
    this.engine = engine;
    this.backend = engine.outcome.used;
    ({ text: this.engineText, state: this.engineState } = engineStatus(engine, this.request));
    this.setStatus(this.engineText, 'loading');
    if (opts.noticeFallback && this.engineState === 'fallback') {
      const lost = BACKEND_LABEL[engine.outcome.failed[0]!.name];
      this.showNotice({ kind: 'warning', title: `Decoding without ${lost}`, text: `${this.engineText} Everything works, with fewer frames per second.` });
    }
    this.warmupMs = engine.outcome.warmupMs;
    return engine;
  }

  /** Decodes one point into RGBA bytes, counting the decode's own time where it ran (not its wait behind others). */
  async decodeRgba(z: Float32Array, out: Uint8ClampedArray): Promise<void> {
    const ms = await this.decoder!.decodeRgba(z, out);
    this.timings.record(ms);
  }

  /** The engine's sentence and the live time per image, at most twice a second unless forced. */
  updateStatus(force = false): void {
    if (!this.backend || !this.statusThrottle.pass(performance.now(), force)) return;
    this.setStatus(liveStatusText(this.engineText, this.timings.mean(), this.options.perWhat ?? 'decode'), this.engineState);
  }

  /** A decode failed after start-up: the status line says so. */
  readonly reportTrouble = (e: unknown): void => {
    console.error(e);
    this.setStatus(`A decode failed: ${errorMessage(e)}. Reload the page if ${this.options.stuck ?? 'the picture stops changing'}.`, 'error');
  };

  /**
   * Runs the studio's start-up. When it fails the notice says why; while
   * `canRetry()` holds it offers to try again, else to reload, and `ready` rejects.
   */
  run(start: () => Promise<void>, opts: { canRetry?: () => boolean; onFailure?: () => void } = {}): void {
    this.hideNotice();
    start().catch((e: unknown) => {
      console.error(e);
      this.loaded();
      opts.onFailure?.();
      const retry = opts.canRetry?.() ? () => this.run(start, opts) : null;
      this.showNotice({
        kind: 'error',
        ...startFailureNotice(this.modelId, errorMessage(e), retry !== null),
        action: { label: 'Try again', run: retry ?? (() => location.reload()) },
      });
      this.setStatus('Not running.', 'error');
      if (!retry) this.ready.reject(e);
    });
  }
}

/** What every studio object holds besides its own state: its root element, the model it shows, its elements, its shell. */
export interface StudioBase<E extends { shell: ShellElements }> {
  readonly root: HTMLElement;
  readonly modelId: string;
  readonly el: E;
  readonly shell: StudioShell;
}

/** A studio's base: the model is the root's data-model (else `defaultModel`), the shell made over the page's shell elements. */
export function studioBase<E extends { shell: ShellElements }>(root: HTMLElement, defaultModel: string, el: E, options: Omit<ShellOptions, 'modelId'> = {}): StudioBase<E> {
  const shell = new StudioShell(el.shell, { ...options, modelId: root.dataset.model ?? defaultModel });
  return { root, modelId: shell.modelId, el, shell };
}
