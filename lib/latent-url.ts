/**
 * Share links: a latent point (and, for faces, slider settings) in a URL.
 *
 *   ?z=1.<modelVersion>.<base64url of little-endian float16 values>
 *   &a=Smiling:0.8,Eyeglasses:-0.5&av=<attributes version>&k=1
 *
 * "1" is the codec version. The model version lets a link made today say
 * clearly, tomorrow, that the model behind it changed. Points are rounded to
 * float16 before they are shown, so the picture a link restores is the one
 * that was shared, bit for bit.
 *
 * The point is the link's substance; a slider setting is a detail. A bad
 * point refuses the link, a bad slider setting is left out (or, a little past
 * the end of its range, set to the end) and the result says which.
 *
 * `av` names the set of attribute directions the sliders were set with
 * (attributes.json's version): a link whose sliders were set with other
 * directions (or before directions had versions) restores its point and its
 * slider values, and says the sliders now steer differently. `k=1` is "keep
 * the others" (lib/steer.ts), part of the picture the sliders make.
 */
import { decodeHalf, encodeHalf, roundToHalf } from './float16.ts';
import { fromBase64Url, toBase64Url } from './base64url.ts';
import { ATTRIBUTE_NAME_PATTERN } from './bundle.ts';
import { MAX_ABS_WEIGHT } from './attributes.ts';

export const CODEC_VERSION = '1';
/** No sensible latent point of a unit-Gaussian prior lies this far out. */
export const MAX_ABS_LATENT = 16;
/**
 * A slider value past the end of the range but within this is read as "as far
 * as it goes" and set to the end; further out it is more likely a typo
 * (Smiling:99 for 0.99) than a wish, so the setting is left out, not guessed at.
 */
export const MAX_ABS_CLAMPED_SLIDER = 2 * MAX_ABS_WEIGHT;
/** The heading over the message of a link from another model version; the message itself does not repeat it. */
export const OTHER_VERSION_TITLE = 'This link was made with another version of the model';

/** A slider setting in a link that is not used as written. The message is a sentence for the visitor. */
export type SliderNote =
  | { kind: 'clamped'; name: string; asked: number; used: number; message: string }
  | { kind: 'dropped'; term: string; message: string }
  | { kind: 'directions'; linkVersion: string | null; message: string };

export interface ShareState {
  z: Float32Array;
  /** Slider settings in the order they appear in the link. */
  sliders: { name: string; value: number }[];
  /** "Keep the others" was on. */
  keep?: boolean;
}

export type DecodeResult =
  | { ok: true; state: ShareState; notes: SliderNote[]; versionMatches: true }
  | { ok: true; state: ShareState; notes: SliderNote[]; versionMatches: false; linkVersion: string; message: string }
  | { ok: false; message: string };

export interface ModelInfo {
  version: string;
  latentDim: number;
  /** Attribute names the model has; sliders naming others are refused. */
  attributeNames?: readonly string[];
  /** The version of the attribute directions the site has now (attributes.json), if they have one. */
  attributesVersion?: string;
}

/**
 * The model version as a link spells it: the manifest's own when it is 4 to
 * 16 hex digits (what training writes), else 8 hex digits hashed from it, so
 * a bundle that names its version freely still makes links that open.
 */
export function linkModelVersion(version: string): string {
  if (/^[0-9a-f]{4,16}$/.test(version)) return version;
  let h = 0x811c9dc5;
  for (let i = 0; i < version.length; i++) h = Math.imul(h ^ version.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Rounds a latent point to what a link can hold. Show this, then share it. */
export function quantizeLatent(z: ArrayLike<number>): Float32Array {
  return roundToHalf(Array.from(z, (v) => Math.max(-MAX_ABS_LATENT, Math.min(MAX_ABS_LATENT, v))));
}

export function roundSlider(value: number): number {
  return Math.round(Math.max(-MAX_ABS_WEIGHT, Math.min(MAX_ABS_WEIGHT, value)) * 100) / 100;
}

export function encodeLatent(z: ArrayLike<number>, modelVersion: string): string {
  return `${CODEC_VERSION}.${modelVersion}.${toBase64Url(encodeHalf(quantizeLatent(z)))}`;
}

export function encodeSliders(sliders: readonly { name: string; value: number }[]): string {
  return sliders
    .filter((s) => roundSlider(s.value) !== 0)
    .map((s) => `${s.name}:${roundSlider(s.value)}`)
    .join(',');
}

/** The query string (without "?") for a share link. */
export function encodeShareQuery(state: ShareState, modelVersion: string, attributesVersion?: string): string {
  const params = new URLSearchParams();
  params.set('z', encodeLatent(state.z, modelVersion));
  const a = encodeSliders(state.sliders);
  if (a) {
    params.set('a', a);
    if (attributesVersion) params.set('av', attributesVersion);
    if (state.keep) params.set('k', '1');
  }
  return params.toString().replace(/%3A/g, ':').replace(/%2C/g, ',');
}

/** "1 number", "2 numbers". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function fail(message: string): DecodeResult {
  return { ok: false, message };
}

/**
 * Parses the `z` and `a` parameters. The point is checked strictly: any fault
 * refuses the link. Slider settings that cannot be used as written are left
 * out or set to the end of their range, each with a note. Every problem gets a
 * sentence a visitor can act on.
 */
export function decodeShareQuery(params: URLSearchParams, model: ModelInfo): DecodeResult {
  const zs = params.getAll('z');
  if (zs.length === 0) return fail('The link has no latent point (no "z" parameter).');
  if (zs.length > 1) return fail('The link has more than one "z" parameter.');
  const point = decodeLatent(zs[0]!, model.latentDim);
  if (!point.ok) return fail(`${point.message.replace(/^The latent point/, 'The latent point in this link')}`);
  const { z, linkVersion } = point;
  const { sliders, notes } = readSliders(params.getAll('a'), new Set(model.attributeNames ?? []));
  notes.push(...directionNotes(params, sliders.length > 0, model.attributesVersion));
  const keep = params.get('k') === '1' && sliders.length > 0;
  const state = { z, sliders, ...(keep ? { keep } : {}) };
  if (linkVersion !== model.version) {
    return {
      ok: true,
      state,
      notes,
      versionMatches: false,
      linkVersion,
      message: `The link names model version ${linkVersion}; this site now has version ${model.version}. The point is restored, but the picture may differ from the one that was shared.`,
    };
  }
  return { ok: true, state, notes, versionMatches: true };
}

/**
 * One latent point as encodeLatent writes it ("1.<model>.<data>"), checked
 * strictly: the codec, the model version's form, the payload, the dimension
 * and the range. The model version is returned, not compared.
 */
export function decodeLatent(text: string, latentDim: number): { ok: true; z: Float32Array; linkVersion: string } | { ok: false; message: string } {
  const bad = (message: string) => ({ ok: false as const, message });
  const parts = text.split('.');
  if (parts.length !== 3) return bad('The latent point is malformed: expected "z=1.<model>.<data>".');
  const [codec, linkVersion, payload] = parts as [string, string, string];
  if (codec !== CODEC_VERSION) return bad(`The latent point uses share-link format ${JSON.stringify(codec.slice(0, 8))}, which this site does not read (it reads format ${CODEC_VERSION}).`);
  if (!/^[0-9a-f]{4,16}$/.test(linkVersion)) return bad('The model version of the latent point is malformed.');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(payload);
  } catch (e) {
    return bad(`The latent point is corrupted (${(e as Error).message}).`);
  }
  if (bytes.length !== latentDim * 2) {
    return bad(`The latent point has ${count(Math.floor(bytes.length / 2), 'number')}, but this model's latent space has ${count(latentDim, 'dimension')}.`);
  }
  const z = decodeHalf(bytes);
  for (const v of z) {
    if (!Number.isFinite(v) || Math.abs(v) > MAX_ABS_LATENT) return bad(`The latent point has a value out of range (${v}); values lie within ±${MAX_ABS_LATENT}.`);
  }
  return { ok: true, z, linkVersion };
}

/** A note when the link's sliders were set with other attribute directions than the site's. */
function directionNotes(params: URLSearchParams, hasSliders: boolean, current: string | undefined): SliderNote[] {
  if (!hasSliders || !current) return [];
  const av = params.get('av');
  if (av === current) return [];
  const linkVersion = av !== null && /^[0-9a-f]{8}$/.test(av) ? av : null;
  return [{
    kind: 'directions',
    linkVersion,
    message: `The sliders in this link were set with ${linkVersion ? `another version (${linkVersion}) of` : 'an earlier version of'} the attribute directions; this site's sliders are recalibrated (±1 now means clearly added or removed), so the face is restored exactly but its slider edits may look different from what was shared.`,
  }];
}

/** The `a` parameter: the settings that can be used, and a note for each that is not used as written. */
function readSliders(as: string[], known: ReadonlySet<string>): { sliders: ShareState['sliders']; notes: SliderNote[] } {
  const sliders: ShareState['sliders'] = [];
  const notes: SliderNote[] = [];
  if (as.length > 1) {
    notes.push({ kind: 'dropped', term: as.join('&a='), message: 'The link has more than one "a" parameter, so its slider settings were left out.' });
    return { sliders, notes };
  }
  if (as.length === 0 || as[0] === '') return { sliders, notes };
  const drop = (term: string, why: string) => notes.push({ kind: 'dropped', term, message: `Left out ${JSON.stringify(term.slice(0, 40))}: ${why}.` });
  for (const term of as[0]!.split(',')) {
    const m = /^([^:]+):(-?\d{1,2}(?:\.\d{1,4})?)$/.exec(term);
    if (!m) {
      drop(term, 'a slider setting is Name:number, such as Smiling:0.8');
      continue;
    }
    const [, name, num] = m as unknown as [string, string, string];
    if (!ATTRIBUTE_NAME_PATTERN.test(name) || !known.has(name)) {
      drop(term, `this model has no attribute ${JSON.stringify(name.slice(0, 40))}`);
      continue;
    }
    if (sliders.some((s) => s.name === name)) {
      drop(term, `${name} is already set earlier in the link`);
      continue;
    }
    const asked = Number(num);
    if (Math.abs(asked) > MAX_ABS_CLAMPED_SLIDER) {
      drop(term, `${asked} is far outside the sliders' range of ±${MAX_ABS_WEIGHT}`);
      continue;
    }
    const used = roundSlider(asked);
    if (Math.abs(asked) > MAX_ABS_WEIGHT) {
      notes.push({ kind: 'clamped', name, asked, used, message: `The link sets ${name} to ${asked}, past the end of its slider (±${MAX_ABS_WEIGHT}), so it is set to ${used}.` });
    }
    sliders.push({ name, value: used });
  }
  return { sliders, notes };
}
