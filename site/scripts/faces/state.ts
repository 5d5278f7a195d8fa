/**
 * The faces studio's state, as plain values: a base point drawn from the prior,
 * the attribute sliders kept beside it (never folded into it), the strip of
 * recent faces, and what a share link says on arrival. The face on screen is
 * always base + mix(sliders), so a link holding both restores it exactly.
 */
import { MAX_ABS_WEIGHT } from '../../../lib/attributes.ts';
import { decodeShareQuery, encodeShareQuery, OTHER_VERSION_TITLE, quantizeLatent, roundSlider, type SliderNote } from '../../../lib/latent-url.ts';

/** The one range links and the mix API use too (lib/attributes.ts says why it is this wide). */
export const SLIDER_MIN = -MAX_ABS_WEIGHT;
export const SLIDER_MAX = MAX_ABS_WEIGHT;
export const SLIDER_STEP = 0.05;
/** FIDLE samples its faces at 0.7; a bundle with a learned prior names its own measured default (sampling.ts). */
export const DEFAULT_TEMPERATURE = 0.7;
export const TEMPERATURE_MIN = 0;
export const TEMPERATURE_MAX = 1.5;

export interface SliderSetting {
  name: string;
  value: number;
}

/** A face the studio can return to: where in the latent space, and how it was steered. */
export interface Face {
  /** Float16-rounded, so a link holds it exactly. */
  base: Float32Array;
  sliders: SliderSetting[];
  /** "Keep the others" (lib/steer.ts), when the face says; absent: whatever the studio has on. */
  keep?: boolean;
}

/**
 * A point from N(0, temperature² I), rounded to float16 like every shown point.
 * `random` gives uniform numbers in [0, 1); Box-Muller turns pairs into normals.
 */
export function sampleLatent(latentDim: number, temperature: number, random: () => number = Math.random): Float32Array {
  if (!Number.isInteger(latentDim) || latentDim < 1) throw new RangeError(`latent size must be a positive integer, got ${latentDim}`);
  const out = new Array<number>(latentDim);
  for (let i = 0; i < latentDim; i += 2) {
    const u = 1 - random();
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = temperature * r * Math.cos(2 * Math.PI * v);
    if (i + 1 < latentDim) out[i + 1] = temperature * r * Math.sin(2 * Math.PI * v);
  }
  return quantizeLatent(out);
}

/** Uniform numbers from the platform's cryptographic generator (no seed to guess, no repeats across tabs). */
export function cryptoRandom(): () => number {
  const buf = new Uint32Array(64);
  let i = buf.length;
  return () => {
    if (i === buf.length) {
      crypto.getRandomValues(buf);
      i = 0;
    }
    return buf[i++]! / 2 ** 32;
  };
}

/** A slider value as state keeps it: within the slider's range, on the link's two-decimal grid. */
export function sliderValue(value: number): number {
  if (!Number.isFinite(value)) return 0;
  const v = roundSlider(Math.max(SLIDER_MIN, Math.min(SLIDER_MAX, value)));
  return Object.is(v, -0) ? 0 : v;
}

/**
 * The settings that matter, in the API's attribute order: zeros dropped,
 * values rounded. One canonical order means one cache entry and one float sum
 * per setting, whatever order the visitor moved the sliders (or a link lists them) in.
 */
export function canonicalSliders(sliders: readonly SliderSetting[], order: readonly string[]): SliderSetting[] {
  const byName = new Map<string, number>();
  for (const s of sliders) byName.set(s.name, roundSlider(s.value));
  const out: SliderSetting[] = [];
  for (const name of order) {
    const value = byName.get(name);
    if (value !== undefined && value !== 0) out.push({ name, value });
  }
  return out;
}

/** The mix API's query for canonical sliders ("" when no slider is set): also the cache key. With `keep`, every attribute not steered is kept; with `face`, a state attribute is added from the face's state and an attribute with a face-dependent transport from the face itself. */
export function mixQuery(canonical: readonly SliderSetting[], keep = false, face: MixFace | null = null): string {
  const q = canonical.map((s) => `${encodeURIComponent(s.name)}=${s.value}`).join('&');
  if (!q) return q;
  const from = face?.from;
  return `${q}${keep ? '&keep=all' : ''}${from ? `&from=${encodeURIComponent(from)}` : ''}${face?.z ? `&z=${face.z}` : ''}`;
}

/** What /mix needs to know of the face: its state (from=) and, for face-dependent transports, the face itself (z=, as share links write it). */
export interface MixFace {
  from: string | null;
  z?: string | null;
}

/** base + offset, in float32 as the decoder takes it. */
export function addLatent(base: ArrayLike<number>, offset: ArrayLike<number>): Float32Array {
  if (base.length !== offset.length) throw new Error(`cannot add a ${offset.length}-D vector to a ${base.length}-D point`);
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) out[i] = base[i]! + offset[i]!;
  return out;
}

/** "Blond_Hair" → "Blond hair", "Wearing_Hat" → "Wearing hat". */
export function attributeLabel(name: string): string {
  const words = name.split('_').filter(Boolean);
  return words.map((w, i) => (i === 0 ? w[0]!.toUpperCase() + w.slice(1).toLowerCase() : w.toLowerCase())).join(' ');
}

/** "+0.80", "−0.50" (a real minus sign), "0.00". */
export function formatWeight(v: number): string {
  const r = Math.round(v * 100) / 100;
  if (r === 0) return '0.00';
  return `${r > 0 ? '+' : '\u2212'}${Math.abs(r).toFixed(2)}`;
}

export function sameFace(a: Face, b: Face): boolean {
  if (a.base.length !== b.base.length || a.sliders.length !== b.sliders.length) return false;
  for (let i = 0; i < a.base.length; i++) if (!Object.is(a.base[i], b.base[i])) return false;
  return a.sliders.every((s, i) => s.name === b.sliders[i]!.name && s.value === b.sliders[i]!.value);
}

export interface RecentEntry extends Face {
  /** Stable number for labels ("Face 7"), counting up from 1 in this visit. */
  serial: number;
  /** The point as drawn, when the face was settled since (faces/settle.ts). */
  drawn?: Float32Array;
}

/** The strip of recent faces, newest first, bounded; the same face twice is kept once. */
export class RecentFaces {
  private items: RecentEntry[] = [];
  private next = 1;

  constructor(readonly limit = 12) {}

  get entries(): readonly RecentEntry[] {
    return this.items;
  }

  /** Adds a face at the front and returns its entry; a face already kept stays where it is, so the strip never reshuffles under a finger. */
  add(face: Face): RecentEntry {
    const existing = this.items.find((e) => sameFace(e, face));
    if (existing) return existing;
    const entry: RecentEntry = { base: face.base, sliders: face.sliders.map((s) => ({ ...s })), serial: this.next++ };
    this.items = [entry, ...this.items].slice(0, this.limit);
    return entry;
  }

  /** Records new slider settings on an entry the visitor is steering. */
  update(serial: number, sliders: readonly SliderSetting[]): void {
    const e = this.items.find((x) => x.serial === serial);
    if (e) e.sliders = sliders.map((s) => ({ ...s }));
  }

  /** Moves an entry to a settled point, if it still holds `from`; says whether it did. */
  rebase(serial: number, from: Float32Array, to: Float32Array): boolean {
    const e = this.items.find((x) => x.serial === serial);
    if (!e || e.base !== from) return false;
    e.drawn = from;
    e.base = to;
    return true;
  }

  find(serial: number): RecentEntry | undefined {
    return this.items.find((e) => e.serial === serial);
  }
}

export interface FacesModel {
  version: string;
  latentDim: number;
  /** Attribute names from the API, or null while (or because) the API cannot be asked. */
  attributeNames: readonly string[] | null;
  /** The version of the API's attribute directions, when it has one. */
  attributesVersion?: string | null;
}

export type FacesArrival =
  | { kind: 'none' }
  | { kind: 'face'; face: Face; notes: SliderNote[] }
  | { kind: 'other-version'; face: Face; notes: SliderNote[]; message: string }
  | { kind: 'invalid'; message: string };

/**
 * Reads `?z=` and `?a=` for the faces model. Without the API's attribute list
 * the names in the link are taken as given (the sliders are checked once the
 * list arrives). A faulty point refuses the link; a faulty slider setting is
 * left out or set to the end of its range, with a note, and the point kept.
 */
export function readFacesArrival(search: string, model: FacesModel): FacesArrival {
  const params = new URLSearchParams(search);
  if (!params.has('z') && !params.has('a')) return { kind: 'none' };
  if (!params.has('z')) return { kind: 'invalid', message: 'The link sets sliders (“a=”) but holds no face (no “z=” parameter).' };
  const names = model.attributeNames ?? namesInLink(params);
  const result = decodeShareQuery(params, { version: model.version, latentDim: model.latentDim, attributeNames: names, ...(model.attributesVersion ? { attributesVersion: model.attributesVersion } : {}) });
  if (!result.ok) return { kind: 'invalid', message: result.message };
  const face: Face = {
    base: quantizeLatent(result.state.z),
    sliders: result.state.sliders.map((s) => ({ name: s.name, value: roundSlider(s.value) })),
    ...(result.state.sliders.length ? { keep: result.state.keep === true } : {}),
  };
  if (!result.versionMatches) return { kind: 'other-version', face, notes: result.notes, message: result.message };
  return { kind: 'face', face, notes: result.notes };
}

/** What the link notice says about a link whose point was kept (null: nothing to say). */
export function keptLinkNotice(arrival: FacesArrival): { title: string; text: string } | null {
  if (arrival.kind !== 'face' && arrival.kind !== 'other-version') return null;
  const { notes } = arrival;
  if (arrival.kind === 'face' && notes.length === 0) return null;
  const title =
    arrival.kind === 'other-version'
      ? OTHER_VERSION_TITLE
      : notes.some((n) => n.kind === 'dropped')
        ? 'Part of this link was left out'
        : notes.some((n) => n.kind === 'clamped')
          ? 'A slider in this link goes past its end'
          : 'The sliders steer differently now';
  const text = [...(arrival.kind === 'other-version' ? [arrival.message] : []), ...notes.map((n) => n.message)].join(' ');
  return { title, text };
}

function namesInLink(params: URLSearchParams): string[] {
  return (params.get('a') ?? '')
    .split(',')
    .map((term) => term.split(':')[0] ?? '')
    .filter(Boolean);
}

/** The address for a face, keeping unrelated parameters (such as `backend`). */
export function faceSearch(currentSearch: string, face: Face, version: string, attributesVersion?: string | null): string {
  const params = new URLSearchParams(currentSearch);
  for (const k of ['z', 'a', 'av', 'k']) params.delete(k);
  const share = encodeShareQuery({ z: face.base, sliders: face.sliders, keep: face.keep === true }, version, attributesVersion ?? undefined);
  const rest = params.toString();
  return `?${share}${rest ? `&${rest}` : ''}`;
}
