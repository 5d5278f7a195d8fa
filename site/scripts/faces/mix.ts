/**
 * The studio's side of the attribute API: the attribute list, fetched once,
 * and mixed vectors for slider settings, fetched from /api/models/:id/mix.
 * While a slider is dragged at most one mix request is in flight; settings
 * passed over meanwhile are dropped, and only the newest is asked for next.
 * Answers are kept per setting, so returning to a position costs nothing.
 */
import { mixQuery, type MixFace, type SliderSetting } from './state.ts';

export type Fetcher = (input: string, init?: RequestInit) => Promise<Response>;

/** What else an edit was measured to change (share of held-out faces), with "keep the others" off and on. */
export interface AlsoChanges {
  free: { name: string; share: number }[];
  kept: { name: string; share: number }[];
}

export interface AttributeInfo {
  name: string;
  positives: number;
  negatives: number;
  norm: number;
  /** How the direction was found; null for an older bundle. */
  method: string | null;
  /** Latent distance of slider +1 / −1; null for an older bundle (slider w moves w × vector). */
  scale: { add: number; remove: number } | null;
  alsoChanges: AlsoChanges | null;
  /** States only: the probe that tells whether a face is in this state (lib/steer.ts faceState). */
  normal?: number[];
  bias?: number;
  /** The start states this attribute has its own calibrated move from (adding blond from black hair, from a hat…). */
  fromStates?: string[];
  /** Added by a face-dependent move (a Gaussian transport or a network fitted to counterfactual pairs): /mix needs the face itself (z=) to add it. */
  transport?: 'gaussian' | 'network';
}

export interface AttributeList {
  modelVersion: string;
  latentDim: number;
  /** The directions' version (share links carry it); null for an older bundle. */
  attributesVersion: string | null;
  attributes: AttributeInfo[];
  /** Exclusive states (hair colour, bald, a hat) with probes: adding one asks /mix from the face's state. Null when there are none. */
  states: string[] | null;
}

function flipsOf(v: unknown): { name: string; share: number }[] {
  return Array.isArray(v) ? v.filter((f): f is { name: string; share: number } => isObject(f) && typeof f.name === 'string' && typeof f.share === 'number') : [];
}

function alsoChangesOf(v: unknown): AlsoChanges | null {
  return isObject(v) ? { free: flipsOf(v.free), kept: flipsOf(v.kept) } : null;
}

function scaleOf(v: unknown): { add: number; remove: number } | null {
  return isObject(v) && typeof v.add === 'number' && typeof v.remove === 'number' ? { add: v.add, remove: v.remove } : null;
}

/** A failure of the attribute API, worded for the visitor. */
export class ApiProblem extends Error {
  constructor(message: string, readonly status: number | null) {
    super(message);
    this.name = 'ApiProblem';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function getJson(fetcher: Fetcher, url: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetcher(url, { headers: { Accept: 'application/json' } });
  } catch (e) {
    throw new ApiProblem(`the attribute service could not be reached (${(e as Error).message || 'network error'})`, null);
  }
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    const detail = isObject(body) && typeof body.error === 'string' ? `: ${body.error.slice(0, 200)}` : '';
    throw new ApiProblem(`the attribute service answered HTTP ${res.status}${detail}`, res.status);
  }
  if (body === null) throw new ApiProblem('the attribute service answered with something other than JSON', res.status);
  return body;
}

/** Checks GET /api/models/:id/attributes against the model the page decodes with. */
export function parseAttributeList(json: unknown, model: { version: string; latentDim: number }): AttributeList {
  if (!isObject(json) || !Array.isArray(json.attributes)) throw new ApiProblem('the attribute list has no "attributes" array', null);
  if (json.modelVersion !== model.version) {
    throw new ApiProblem(`the attribute service describes model version ${String(json.modelVersion).slice(0, 16)}, but this page loaded version ${model.version}; reload the page`, null);
  }
  const attributes: AttributeInfo[] = [];
  for (const a of json.attributes) {
    if (!isObject(a) || typeof a.name !== 'string') throw new ApiProblem('the attribute list holds an entry without a name', null);
    attributes.push({
      name: a.name,
      positives: typeof a.positives === 'number' ? a.positives : 0,
      negatives: typeof a.negatives === 'number' ? a.negatives : 0,
      norm: typeof a.norm === 'number' ? a.norm : NaN,
      method: typeof a.method === 'string' ? a.method : null,
      scale: scaleOf(a.scale),
      alsoChanges: alsoChangesOf(a.alsoChanges),
      ...probeOf(a, model.latentDim),
      ...fromStatesOf(a.from),
      ...(isObject(a.transport) ? { transport: a.transport.kind === 'network' ? 'network' as const : 'gaussian' as const } : {}),
    });
  }
  const attributesVersion = typeof json.attributesVersion === 'string' ? json.attributesVersion : null;
  return { modelVersion: model.version, latentDim: model.latentDim, attributesVersion, attributes, states: statesOf(json.states, attributes) };
}

function fromStatesOf(v: unknown): { fromStates?: string[] } {
  if (!Array.isArray(v)) return {};
  const states = v.filter((t): t is { state: string } => isObject(t) && typeof t.state === 'string').map((t) => t.state);
  return states.length ? { fromStates: states } : {};
}

function probeOf(a: Record<string, unknown>, d: number): { normal?: number[]; bias?: number } {
  const n = a.normal;
  if (typeof a.bias !== 'number' || !Number.isFinite(a.bias) || !Array.isArray(n) || n.length !== d || !n.every((x) => typeof x === 'number' && Number.isFinite(x))) return {};
  return { normal: n as number[], bias: a.bias };
}

/** The listed states, if every one of them is an attribute with a probe; else none (the sliders then steer without from=). */
function statesOf(v: unknown, attributes: readonly AttributeInfo[]): string[] | null {
  if (!Array.isArray(v) || v.length < 2) return null;
  const ok = v.every((n) => typeof n === 'string' && attributes.some((a) => a.name === n && a.bias !== undefined));
  return ok ? (v as string[]) : null;
}

/** Checks a GET /api/models/:id/mix answer and returns its vector. */
export function parseMixVector(json: unknown, model: { version: string; latentDim: number }): Float32Array {
  if (!isObject(json) || !Array.isArray(json.vector)) throw new ApiProblem('the mix answer has no "vector"', null);
  if (json.modelVersion !== model.version) {
    throw new ApiProblem(`the attribute service mixed vectors for model version ${String(json.modelVersion).slice(0, 16)}, but this page decodes version ${model.version}; reload the page`, null);
  }
  const v = json.vector;
  if (v.length !== model.latentDim || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new ApiProblem(`the mix answer is not ${model.latentDim} finite numbers`, null);
  }
  return Float32Array.from(v as number[]);
}

export async function fetchAttributeList(fetcher: Fetcher, modelId: string, model: { version: string; latentDim: number }): Promise<AttributeList> {
  return parseAttributeList(await getJson(fetcher, `/api/models/${encodeURIComponent(modelId)}/attributes`), model);
}

export interface MixClientOptions {
  fetcher: Fetcher;
  modelId: string;
  version: string;
  latentDim: number;
  /** A vector arrived for the setting `key` (the mix query) after live(). */
  onVector: (key: string, vector: Float32Array) => void;
  /** The live request for `key` failed. */
  onError: (key: string, error: ApiProblem) => void;
}

export class MixClient {
  private readonly cache = new Map<string, Float32Array>();
  private readonly inflight = new Map<string, Promise<Float32Array>>();
  private wanted: string | null = null;
  private liveBusy = false;
  private requests = 0;

  constructor(private readonly options: MixClientOptions) {}

  /** How many HTTP requests were made (tests read this to check coalescing). */
  get requestCount(): number {
    return this.requests;
  }

  /** True while no live request waits or runs. */
  get idle(): boolean {
    return !this.liveBusy && this.wanted === null;
  }

  /** The cached vector for a setting, if any. */
  cached(key: string): Float32Array | undefined {
    return key === '' ? new Float32Array(this.options.latentDim) : this.cache.get(key);
  }

  /** The vector for canonical sliders (with "keep the others" when `keep`, from the face `face`: its state, and itself where a transport needs it), fetched if needed (for arrivals and restores, which must wait for it). */
  vector(sliders: readonly SliderSetting[], keep = false, face: MixFace | null = null): Promise<Float32Array> {
    return this.fetchKey(mixQuery(sliders, keep, face));
  }

  /** Asks for the newest slider setting while a slider moves; answers come through onVector/onError. */
  live(sliders: readonly SliderSetting[], keep = false, face: MixFace | null = null): void {
    this.wanted = mixQuery(sliders, keep, face);
    this.pump();
  }

  /** One request per setting at a time; a failure is not cached, so the next ask tries the network again. */
  private fetchKey(key: string): Promise<Float32Array> {
    const hit = this.cached(key);
    if (hit) return Promise.resolve(hit);
    const running = this.inflight.get(key);
    if (running) return running;
    const { fetcher, modelId, version, latentDim } = this.options;
    this.requests++;
    const p = getJson(fetcher, `/api/models/${encodeURIComponent(modelId)}/mix?${key}`)
      .then((json) => {
        const v = parseMixVector(json, { version, latentDim });
        this.cache.set(key, v);
        return v;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private pump(): void {
    if (this.liveBusy || this.wanted === null) return;
    const key = this.wanted;
    this.wanted = null;
    const hit = this.cached(key);
    if (hit) {
      this.options.onVector(key, hit);
      this.pump();
      return;
    }
    this.liveBusy = true;
    this.fetchKey(key)
      .then(
        (v) => this.options.onVector(key, v),
        (e: unknown) => this.options.onError(key, e instanceof ApiProblem ? e : new ApiProblem((e as Error).message ?? String(e), null)),
      )
      .finally(() => {
        this.liveBusy = false;
        this.pump();
      });
  }
}
