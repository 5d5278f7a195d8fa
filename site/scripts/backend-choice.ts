/**
 * Which tfjs backend to try, in which order, and how to say what happened.
 * WebGL runs the decoder on the GPU; WebAssembly and plain JavaScript (cpu)
 * are the fallbacks for browsers or machines without usable WebGL.
 */

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

/** The status sentence: which backend decodes, and why if it is not the first choice. */
export function backendSentence(used: BackendName, request: BackendRequest, failed: readonly { name: BackendName; reason: string }[]): string {
  const label = BACKEND_LABEL[used];
  if (request.forced === used) return `Decoding on ${label}, as asked in the address.`;
  if (failed.length === 0) return `Decoding on ${label}.`;
  const why = failed.map((f) => `${BACKEND_LABEL[f.name]} is unavailable (${f.reason})`).join('; ');
  return `${why}; decoding on ${label} instead${used === 'webgl' ? '' : ', which is slower'}.`;
}
