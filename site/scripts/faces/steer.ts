/**
 * Steering: one slider per attribute direction the edge API lists. A slider
 * moves the face along base + mix(sliders); the mix comes from the API
 * (MixClient keeps one request in flight and only the newest setting
 * waiting), and the face follows when it answers. This module owns the
 * slider list, the reset buttons, the steer status line with its retry,
 * and what happens when the API answers or fails.
 */
import type { BundleManifest } from '../../../lib/bundle.ts';
import { paintCentredRange } from '../studio/centred-range.ts';
import { capitalise, errorMessage } from '../studio/page-kit.ts';
import { describeFace, requestShow } from './face.ts';
import { buildFacts } from './facts.ts';
import { ApiProblem, fetchAttributeList, MixClient, type AttributeInfo, type AttributeList, type Fetcher } from './mix.ts';
import { addLatent, attributeLabel, formatWeight, mixQuery, SLIDER_MAX, SLIDER_MIN, SLIDER_STEP, type SliderSetting } from './state.ts';
import { adoptAttributes, currentSliders, resetSliders, setKeep, setSliderValue, mixFaceOf, type FacesStudio } from './studio.ts';

/** The attribute API's calls give up after this long: a slider should not hang on a dead connection. */
const API_TIMEOUT_MS = 10_000;

const apiFetch: Fetcher = (u, init) => fetch(u, { ...init, signal: AbortSignal.timeout(API_TIMEOUT_MS) });

// ---- words (pure)

/** The steer status when the attribute list could not be had. */
export function attributesMissingText(problem: string): string {
  return `${capitalise(problem)}. The sliders are off until it answers; generating, morphing and sharing still work.`;
}

/** The steer status when a live mix request failed. */
export function mixFailedText(problem: string): string {
  return `${capitalise(problem)}. The face shows the last setting that loaded.`;
}

/** The hover title of an attribute's label: how its direction was found and what ±1 is. */
export function attributeTitle(a: AttributeInfo): string {
  const counts = `${a.positives.toLocaleString('en')} faces with, ${a.negatives.toLocaleString('en')} without`;
  if (!a.scale) return `${counts}; vector length ${a.norm.toFixed(2)}`;
  const method = (a.method ?? 'mean difference').replace(/-/g, ' ');
  if (a.transport === 'network') {
    return `${counts}; −1 moves the face ${a.scale.remove.toFixed(2)} back along its direction (${method}); +1 follows this face's own move, given by a small network fitted to pairs of the same avatar drawn without and with it`;
  }
  if (a.transport) {
    return `${counts}; −1 moves the face ${a.scale.remove.toFixed(2)} back along its direction (${method}); +1 follows a move fitted to this face: the optimal transport from the faces without it to the faces with it, which moves a face far from them further than one close by`;
  }
  const base = `${counts}; direction: ${method}; +1 moves the face ${a.scale.add.toFixed(2)} along it, −1 moves it ${a.scale.remove.toFixed(2)} back`;
  if (!a.fromStates?.length) return base;
  return `${base}. Adding it starts from what the face has now: its own calibrated move from ${a.fromStates.map((n) => attributeLabel(n).toLowerCase()).join(', ')}`;
}

/** Shares at or above this are worth telling a visitor about. */
const EFFECT_MIN = 0.02;

/**
 * The "also changes" readout for the sliders that are set: what else each
 * edit was measured to change on held-out faces at ±1 (with "keep the
 * others" as it is now). Empty when no slider is set or the bundle has no
 * measurements.
 */
export function effectsText(attributes: readonly AttributeInfo[], sliders: readonly SliderSetting[], keep: boolean): string {
  const parts: string[] = [];
  for (const setting of sliders) {
    const a = attributes.find((x) => x.name === setting.name);
    if (!a?.alsoChanges) continue;
    const flips = (keep ? a.alsoChanges.kept : a.alsoChanges.free).filter((f) => f.share >= EFFECT_MIN);
    const what = flips.length ? flips.map((f) => `${attributeLabel(f.name).toLowerCase()} ${Math.round(100 * f.share)}%`).join(', ') : 'nothing else measurably';
    parts.push(`${attributeLabel(a.name)} also changes: ${what}.`);
  }
  if (!parts.length) return '';
  return `${parts.join(' ')} (Share of held-out faces a full slider changed${keep ? ', keeping the others' : ''}.)`;
}

/** What a slider at `value` shows: its read-out, its spoken value, and whether it is set (away from 0). */
export function sliderView(name: string, value: number): { text: string; ariaValueText: string; isSet: boolean } {
  return { text: formatWeight(value), ariaValueText: `${attributeLabel(name)} ${formatWeight(value)}`, isSet: value !== 0 };
}

// ---- the API

/** The mix client for this model, made once; its answers steer the face on screen. */
export function ensureMix(s: FacesStudio, m: BundleManifest): MixClient {
  s.mix ??= new MixClient({
    fetcher: apiFetch,
    modelId: s.modelId,
    version: m.version,
    latentDim: m.latentDim,
    onVector: (key, vector) => onMixVector(s, key, vector),
    onError: (key, e) => onMixError(s, key, e),
  });
  return s.mix;
}

function onMixVector(s: FacesStudio, key: string, vector: Float32Array): void {
  const want = mixQuery(currentSliders(s), s.keep, mixFaceOf(s, s.base, currentSliders(s)));
  // While a slider moves, any newer setting is better than none; once the wanted one is in, older answers are ignored.
  if (key === want || !s.mix?.cached(want)) void s.faceScheduler.request({ z: addLatent(s.base, vector), base: s.base, key });
  if (key === want) setSteerStatus(s, null);
}

function onMixError(s: FacesStudio, key: string, e: ApiProblem): void {
  if (key !== mixQuery(currentSliders(s), s.keep, mixFaceOf(s, s.base, currentSliders(s)))) return;
  setSteerStatus(s, mixFailedText(e.message), true);
}

/** Fetches the attribute list and builds the sliders; without it the sliders stay off and the status line says why. */
export async function loadAttributes(s: FacesStudio): Promise<void> {
  if (!s.manifest) return;
  try {
    adoptAttributes(s, await fetchAttributeList(apiFetch, s.modelId, s.manifest));
    buildSliders(s, s.attributes!);
    syncSliderInputs(s);
    setSteerStatus(s, s.order.length ? null : 'This model has no attribute directions to steer by.');
  } catch (e) {
    s.attributeProblem = errorMessage(e);
    setSteerStatus(s, attributesMissingText(s.attributeProblem), true);
  }
  if (s.manifest) buildFacts(s, s.manifest);
}

// ---- the sliders

export function setSteerStatus(s: FacesStudio, text: string | null, retry = false): void {
  s.el.steerStatus.textContent = text ?? '';
  s.el.steerStatus.hidden = !text;
  s.el.steerRetry.hidden = !retry;
}

function sliderItem(s: FacesStudio, a: AttributeInfo): HTMLLIElement {
  const id = `attr-${a.name}`;
  const view = sliderView(a.name, 0);
  const li = document.createElement('li');
  li.className = 'faces-slider';
  li.dataset.name = a.name;
  const label = document.createElement('label');
  label.htmlFor = id;
  label.textContent = attributeLabel(a.name);
  label.title = attributeTitle(a);
  const out = document.createElement('output');
  out.htmlFor.add(id);
  out.id = `${id}-out`;
  out.className = 'mono faces-slider__value';
  out.value = view.text;
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
  input.setAttribute('aria-valuetext', view.ariaValueText);
  input.addEventListener('input', () => setSlider(s, a.name, Number(input.value)));
  input.addEventListener('dblclick', () => setSlider(s, a.name, 0));
  reset.addEventListener('click', () => {
    setSlider(s, a.name, 0);
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
}

function buildSliders(s: FacesStudio, list: AttributeList): void {
  s.el.sliders.replaceChildren(...list.attributes.map((a) => sliderItem(s, a)));
  s.el.steerReset.disabled = false;
}

/** Brings every slider, its read-out and its reset button in line with the state. */
export function syncSliderInputs(s: FacesStudio): void {
  let any = false;
  for (const li of s.el.sliders.querySelectorAll<HTMLLIElement>('li[data-name]')) {
    const name = li.dataset.name!;
    const value = s.sliders.get(name) ?? 0;
    const view = sliderView(name, value);
    any ||= view.isSet;
    const input = li.querySelector('input')!;
    if (Number(input.value) !== value) input.value = String(value);
    paintCentredRange(input);
    li.querySelector('output')!.value = view.text;
    input.setAttribute('aria-valuetext', view.ariaValueText);
    li.querySelector<HTMLButtonElement>('.faces-slider__reset')!.disabled = !view.isSet;
    li.classList.toggle('is-set', view.isSet);
  }
  s.el.steerReset.disabled = !any;
  s.el.steerKeep.checked = s.keep;
  const effects = effectsText(s.attributes?.attributes ?? [], currentSliders(s), s.keep);
  s.el.steerEffects.textContent = effects;
  s.el.steerEffects.hidden = !effects;
}

/** The face follows a changed setting: sliders, caption, then the decode. */
function steered(s: FacesStudio): void {
  syncSliderInputs(s);
  describeFace(s);
  void requestShow(s);
}

function setSlider(s: FacesStudio, name: string, value: number): void {
  setSliderValue(s, name, value);
  steered(s);
}

function resetAll(s: FacesStudio): void {
  resetSliders(s);
  steered(s);
}

export function bindSteer(s: FacesStudio): void {
  s.el.steerReset.addEventListener('click', () => resetAll(s));
  s.el.steerRetry.addEventListener('click', () => {
    setSteerStatus(s, 'Trying again…');
    if (!s.attributes) void loadAttributes(s).then(() => s.attributes && requestShow(s));
    else if (s.mix) s.mix.live(currentSliders(s), s.keep, mixFaceOf(s, s.base, currentSliders(s)));
  });
  s.el.steerKeep.addEventListener('change', () => {
    setKeep(s, s.el.steerKeep.checked);
    steered(s);
  });
}
