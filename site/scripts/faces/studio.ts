/**
 * The faces studio as one typed object: what the visitor is looking at (a
 * base point and the sliders beside it), what the page has loaded, and the
 * parts that do the work. Every feature module (face, steer, recent,
 * generate, morph, share, downloads, facts) takes this object; the
 * transitions below are plain functions of its data, testable without a page.
 */
import type { BundleManifest } from '../../../lib/bundle.ts';
import { encodeLatent, linkModelVersion } from '../../../lib/latent-url.ts';
import { faceState } from '../../../lib/steer.ts';
import type { LatentPrior } from '../../../lib/prior.ts';
import type { LatestOnly } from '../engine/latest-only.ts';
import type { StudioBase } from '../studio/shell.ts';
import type { End, FacesElements } from './elements.ts';
import type { AttributeList, MixClient } from './mix.ts';
import type { MorphPath, MorphPlayer } from './morph-player.ts';
import {
  attributeLabel,
  canonicalSliders,
  DEFAULT_TEMPERATURE,
  formatWeight,
  RecentFaces,
  sliderValue,
  type Face,
  type MixFace,
  type RecentEntry,
  type SliderSetting,
} from './state.ts';

/** A face decoded (or to decode): the point shown, the base it was steered from, and the setting's mix key. */
export interface ShowJob {
  z: Float32Array;
  base: Float32Array;
  key: string;
}

/** One end of the morph: a point and how the page names it. */
export interface Endpoint {
  z: Float32Array;
  label: string;
}

/** The studio's data: no elements, no network, nothing that runs. */
export interface FacesState {
  manifest: BundleManifest | null;
  attributes: AttributeList | null;
  /** Why the attribute list is missing, while it is. */
  attributeProblem: string | null;
  /** The API's attribute order: the sliders' order and the canonical order of a setting. */
  order: string[];
  /** The face's point before steering, float16-rounded. */
  base: Float32Array;
  /** Every attribute's slider value, 0 when unset; kept beside the base, never folded into it. */
  sliders: Map<string, number>;
  /** "Keep the others": each steered direction holds the attributes not steered (lib/steer.ts). */
  keep: boolean;
  temperature: number;
  prior: LatentPrior | null;
  priorProblem: string | null;
  /** Encode–decode round trips each new face takes (faces/settle.ts); 0: shown as drawn. */
  settleTrips: number;
  /** The encoder is in the engine, so faces can be settled. */
  settleReady: boolean;
  settleProblem: string | null;
  recent: RecentFaces;
  /** The recent-faces entry on screen. */
  currentSerial: number;
  /** What the face canvas shows now. */
  shown: ShowJob | null;
  /** Whether the address bar follows the face (not while an arrival's link is still on show untouched). */
  addressLive: boolean;
  addressTimer: ReturnType<typeof setTimeout> | null;
  lastAddressWrite: number;
  endpoints: Record<End, Endpoint | null>;
  path: MorphPath;
  /** Async work outside the schedulers (morph set-up, endpoint choices, video export) that settled() waits for. */
  pendingWork: number;
}

/** The studio: its data, its elements, and the parts that do the work. */
export interface FacesStudio extends FacesState, StudioBase<FacesElements> {
  /** Uniform numbers for drawing faces (the platform's cryptographic generator). */
  readonly random: () => number;
  mix: MixClient | null;
  /** Decodes the newest face asked for, one per frame. */
  readonly faceScheduler: LatestOnly<ShowJob>;
  readonly player: MorphPlayer;
  /** Thumbnails of the recent faces, by serial. */
  readonly thumbs: Map<number, HTMLCanvasElement>;
  readonly faceCtx: CanvasRenderingContext2D;
  readonly morphCtx: CanvasRenderingContext2D;
  faceImage: ImageData | null;
  morphImage: ImageData | null;
}

export function newFacesState(recentLimit = 12): FacesState {
  return {
    manifest: null,
    attributes: null,
    attributeProblem: null,
    order: [],
    base: new Float32Array(0),
    sliders: new Map(),
    keep: false,
    temperature: DEFAULT_TEMPERATURE,
    prior: null,
    priorProblem: null,
    settleTrips: 0,
    settleReady: false,
    settleProblem: null,
    recent: new RecentFaces(recentLimit),
    currentSerial: 0,
    shown: null,
    addressLive: false,
    addressTimer: null,
    lastAddressWrite: 0,
    endpoints: { a: null, b: null },
    path: 'slerp',
    pendingWork: 0,
  };
}

/** The slider settings that matter, in the API's order. */
export function currentSliders(s: FacesState): SliderSetting[] {
  return canonicalSliders(
    [...s.sliders].map(([name, value]) => ({ name, value })),
    s.order,
  );
}

export function currentFace(s: FacesState): Face {
  return { base: s.base, sliders: currentSliders(s), ...(s.keep ? { keep: true } : {}) };
}

export function currentEntry(s: FacesState): RecentEntry | undefined {
  return s.recent.find(s.currentSerial);
}

/** The attribute list arrived: its order is the sliders' order, and every attribute gets a slider (at 0 unless set already). */
/** The state a base point is in (hair colour, bald or a hat), read by the listed probes: the mix API adds a state attribute from it. */
export function stateOfBase(s: Pick<FacesState, 'attributes'>, base: ArrayLike<number>): string | null {
  const list = s.attributes;
  if (!list?.states) return null;
  const probes = new Map(list.attributes.filter((a) => a.normal && a.bias !== undefined).map((a) => [a.name, { normal: a.normal!, bias: a.bias }]));
  return faceState(probes, list.states, base);
}

/**
 * What the mix API is told of a base point for these sliders: its state, and
 * the point itself (as a share link writes it) when a slider adds an attribute
 * whose move depends on the face (a Gaussian transport).
 */
export function mixFaceOf(s: Pick<FacesState, 'attributes'>, base: ArrayLike<number>, sliders: readonly SliderSetting[]): MixFace {
  const from = stateOfBase(s, base);
  const list = s.attributes;
  const needsFace = list?.attributes.some((a) => a.transport && sliders.some((t) => t.name === a.name && t.value > 0));
  return needsFace ? { from, z: encodeLatent(base, linkModelVersion(list!.modelVersion)) } : { from };
}

export function adoptAttributes(s: FacesState, list: AttributeList): void {
  s.attributes = list;
  s.attributeProblem = null;
  s.order = list.attributes.map((a) => a.name);
  for (const name of s.order) if (!s.sliders.has(name)) s.sliders.set(name, 0);
}

/** Makes `face` the current one: its base, its sliders (the others at 0), kept in the recent faces. */
export function adoptFace(s: FacesState, face: Face): RecentEntry {
  s.base = face.base;
  if (face.keep !== undefined) s.keep = face.keep;
  for (const name of s.sliders.keys()) s.sliders.set(name, 0);
  for (const setting of face.sliders) s.sliders.set(setting.name, sliderValue(setting.value));
  const entry = s.recent.add({ base: s.base, sliders: currentSliders(s) });
  // A face the strip already keeps is that entry, point and all: settling it later finds it.
  s.base = entry.base;
  s.currentSerial = entry.serial;
  return entry;
}

/** The visitor moved a slider: the value as state keeps it, and the address follows from now on. */
export function setSliderValue(s: FacesState, name: string, value: number): void {
  s.sliders.set(name, sliderValue(value));
  s.addressLive = true;
}

/** The visitor turned "keep the others" on or off: the address follows from now on. */
export function setKeep(s: FacesState, keep: boolean): void {
  s.keep = keep;
  s.addressLive = true;
}

/** Every slider back at 0. */
export function resetSliders(s: FacesState): void {
  for (const name of s.sliders.keys()) s.sliders.set(name, 0);
  s.addressLive = true;
}

/** "smiling +0.80, blond hair −0.50": a setting in words. */
export function describeSliders(sliders: readonly SliderSetting[]): string {
  return sliders.map((x) => `${attributeLabel(x.name).toLowerCase()} ${formatWeight(x.value)}`).join(', ');
}

/** The face's caption and the canvas's accessible name. */
export function faceDescription(s: FacesState): { name: string; steer: string; ariaLabel: string } {
  const entry = currentEntry(s);
  const name = entry ? `Face ${entry.serial}` : 'Face';
  const steer = describeSliders(currentSliders(s));
  return {
    name,
    steer: steer ? `steered: ${steer}` : 'unsteered',
    ariaLabel: `${name}, decoded from a ${s.base.length}-dimensional latent point${steer ? `, steered: ${steer}` : ''}`,
  };
}

/** How a recent face is named in a list: "Face 3, smiling +0.80". */
export function entryLabel(entry: RecentEntry): string {
  const steer = describeSliders(entry.sliders);
  return `Face ${entry.serial}${steer ? `, ${steer}` : ''}`;
}
