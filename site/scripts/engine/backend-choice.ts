/**
 * Which tfjs backend to try, in which order, and how to say what happened.
 * WebGL runs the decoder on the GPU; WebAssembly and plain JavaScript (cpu)
 * are the fallbacks for browsers or machines without usable WebGL.
 */

/**
 * Why WebGL cannot run here, or null if it can. In a page this asks a canvas;
 * in a worker (no document) an OffscreenCanvas, which is all tfjs uses there.
 */
export function webglProblem(): string | null {
  try {
    const gl =
      typeof document === 'undefined'
        ? typeof OffscreenCanvas === 'undefined'
          ? null
          : new OffscreenCanvas(1, 1).getContext('webgl2')
        : (() => {
            const canvas = document.createElement('canvas');
            return canvas.getContext('webgl2') ?? canvas.getContext('webgl');
          })();
    if (!gl) return 'this browser gives no WebGL context';
    (gl as WebGLRenderingContext).getExtension('WEBGL_lose_context')?.loseContext();
    return null;
  } catch (e) {
    return (e as Error).message || 'WebGL failed to start';
  }
}

export const BACKENDS = ['webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendRequest {
  /** The backend asked for with ?backend=, if any. */
  forced: BackendName | null;
  /** Set when ?backend= named something unknown. */
  problem: string | null;
}

export function readBackendRequest(search: string): BackendRequest {
  const values = new URLSearchParams(search).getAll('backend');
  if (values.length === 0) return { forced: null, problem: null };
  const v = values[values.length - 1]!.toLowerCase();
  if ((BACKENDS as readonly string[]).includes(v)) return { forced: v as BackendName, problem: null };
  return {
    forced: null,
    problem: `Unknown backend ${JSON.stringify(values[values.length - 1]!.slice(0, 20))} in the address; use webgl, wasm or cpu. Choosing automatically.`,
  };
}

/** The order to try: the forced one first, then the usual preference. */
export function backendOrder(request: BackendRequest): BackendName[] {
  return request.forced ? [request.forced, ...BACKENDS.filter((b) => b !== request.forced)] : [...BACKENDS];
}

export const BACKEND_LABEL: Record<BackendName, string> = {
  webgl: 'WebGL (GPU)',
  wasm: 'WebAssembly (CPU)',
  cpu: 'plain JavaScript (CPU)',
};

/** WebGL when the browser has no usable GPU and draws with a software rasteriser on the CPU. */
export const SOFTWARE_WEBGL_LABEL = 'WebGL (no GPU: emulated on the CPU)';

/**
 * True for the renderer strings of software WebGL: SwiftShader (Chrome's
 * fallback and headless default), Mesa's llvmpipe/softpipe, Microsoft's
 * Basic Render Driver.
 */
export function isSoftwareRenderer(renderer: string | null): boolean {
  return renderer !== null && /swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);
}

let rendererSeen: string | null | undefined;

/**
 * The WebGL renderer this browser reports (unmasked where it allows), asked
 * once per page; null where there is no WebGL or no DOM (a worker, Node).
 */
export function webglRenderer(): string | null {
  if (rendererSeen !== undefined) return rendererSeen;
  rendererSeen = null;
  try {
    if (typeof document === 'undefined') return rendererSeen;
    const gl = document.createElement('canvas').getContext('webgl');
    if (!gl) return rendererSeen;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name: unknown = gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
    rendererSeen = typeof name === 'string' ? name : null;
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  } catch {
    // no WebGL: nothing to say about it
  }
  return rendererSeen;
}

/** A backend's name as the status line says it; WebGL on a software renderer is not called a GPU. */
export function backendLabel(name: BackendName, renderer: string | null = null): string {
  return name === 'webgl' && isSoftwareRenderer(renderer) ? SOFTWARE_WEBGL_LABEL : BACKEND_LABEL[name];
}

export interface SentenceOptions {
  /** Give the measured milliseconds per image (a page that shows no live timing of its own). */
  figures?: boolean;
  /** The WebGL renderer string; by default the one this page's browser reports. */
  renderer?: string | null;
}

/** How a decode engine started: where it runs, on which backend, and how that was chosen. */
export interface EngineReport {
  used: BackendName;
  /** The choice came from an earlier visit's measurement (measured holds its figures). */
  remembered?: boolean;
  failed: readonly { name: BackendName; reason: string }[];
  measured: readonly { name: BackendName; ms: number }[];
  where: 'worker' | 'page';
  workerProblem: string | null;
}

function ms(v: number): string {
  return v >= 10 ? v.toFixed(0) : v.toFixed(1);
}

/**
 * The status sentence for a decode engine: the backend, why it (measured or
 * asked for in the address), and where it runs. Studios append their own live
 * time per image, so by default the start-up figures are left out: one
 * number on the line, not two that disagree.
 */
export function engineSentence(r: EngineReport, request: BackendRequest, verb = 'Decoding', options: SentenceOptions = {}): string {
  const renderer = options.renderer === undefined ? webglRenderer() : options.renderer;
  const name = (b: BackendName) => backendLabel(b, renderer);
  const label = name(r.used);
  /** Why the measured choice won: every figure, or just whom it beat. */
  const versus = () => {
    if (options.figures) return ` (${r.measured.map((m) => `${name(m.name)} ${ms(m.ms)} ms`).join(', ')} per image)`;
    const others = r.measured.filter((m) => m.name !== r.used).map((m) => name(m.name));
    return others.length ? `, ahead of ${others.join(' and ')}` : '';
  };
  let text: string;
  if (r.remembered && r.measured.length > 1) text = `Decoding on ${label}, the fastest measured here on an earlier visit${versus()}.`;
  else if (request.forced === r.used) text = `Decoding on ${label}, as asked in the address.`;
  else if (r.measured.length > 1) text = `Decoding on ${label}, the fastest measured here${versus()}.`;
  else if (r.failed.length === 0) text = `Decoding on ${label}.`;
  else text = '';
  if (r.failed.length > 0) {
    const why = r.failed.map((f) => `${name(f.name)} is unavailable (${f.reason})`).join('; ');
    text = text ? `${text} ${why}.` : `${why}; decoding on ${label} instead${r.used === 'webgl' ? '' : ', which is slower'}.`;
  }
  // A page that runs tfjs itself by design passes workerProblem null: nothing to explain.
  if (r.where === 'page' && r.workerProblem !== null) text += ` Decodes share the page's thread (no worker: ${r.workerProblem}).`;
  return verb === 'Decoding' ? text : text.replace(/\b[Dd]ecoding\b/g, (m) => (m[0] === 'D' ? verb : verb.toLowerCase()));
}

/** A measured choice kept in localStorage, so later visits skip the timing (and WebGL's shader compile when it lost). */
export interface RememberedChoice {
  used: BackendName;
  measured: { name: BackendName; ms: number }[];
  /** When it was measured (ms since the epoch). */
  at: number;
}

type KeyValueStore = Pick<Storage, 'getItem' | 'setItem'>;
/** A measurement is trusted this long; drivers, GPUs and browsers change. */
export const REMEMBER_MS = 14 * 24 * 3600 * 1000;
const STORE_PREFIX = 'latent-atelier:backend:';

/** The remembered choice for `key`, or null when there is none, it is stale, or storage is unreadable or holds nonsense. */
export function recallChoice(store: KeyValueStore | null, key: string, now = Date.now()): RememberedChoice | null {
  try {
    const raw = store?.getItem(STORE_PREFIX + key);
    if (!raw) return null;
    const v = JSON.parse(raw) as Partial<RememberedChoice>;
    if (!v || !(BACKENDS as readonly string[]).includes(v.used as string) || typeof v.at !== 'number' || !Array.isArray(v.measured)) return null;
    if (!(now - v.at >= 0 && now - v.at < REMEMBER_MS)) return null;
    const measured = v.measured.filter((m) => m && (BACKENDS as readonly string[]).includes(m.name) && Number.isFinite(m.ms) && m.ms > 0);
    return { used: v.used as BackendName, measured, at: v.at };
  } catch {
    return null;
  }
}

/** Keeps a measured choice (only one that was really measured: two or more backends timed). */
export function rememberChoice(store: KeyValueStore | null, key: string, used: BackendName, measured: readonly { name: BackendName; ms: number }[], now = Date.now()): void {
  if (measured.length < 2) return;
  try {
    store?.setItem(STORE_PREFIX + key, JSON.stringify({ used, measured: measured.map(({ name, ms }) => ({ name, ms: Math.round(ms * 10) / 10 })), at: now }));
  } catch {
    // storage full or refused: the next visit measures again
  }
}
