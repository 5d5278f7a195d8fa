import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../lib/bundle.ts';
import { decodeLatent, encodeShareQuery, linkModelVersion, OTHER_VERSION_TITLE, quantizeLatent } from '../../lib/latent-url.ts';
import { planArrival } from '../../site/scripts/faces/arrival.ts';
import { defaultPngSize, videoSize } from '../../site/scripts/faces/downloads.ts';
import { facesFacts } from '../../site/scripts/faces/facts.ts';
import { keptSteeringText } from '../../site/scripts/faces/generate.ts';
import { formatFps, morphValueText, readEndpointLink } from '../../site/scripts/faces/morph.ts';
import { readFacesArrival, SLIDER_MAX } from '../../site/scripts/faces/state.ts';
import { attributesMissingText, attributeTitle, effectsText, mixFailedText, sliderView } from '../../site/scripts/faces/steer.ts';
import {
  adoptAttributes,
  adoptFace,
  currentEntry,
  currentFace,
  currentSliders,
  describeSliders,
  entryLabel,
  faceDescription,
  newFacesState,
  resetSliders,
  setKeep,
  setSliderValue,
  stateOfBase,
  mixFaceOf,
} from '../../site/scripts/faces/studio.ts';
import type { AttributeList } from '../../site/scripts/faces/mix.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const manifest = parseManifest(JSON.parse(readFileSync(join(ROOT, 'public/models/faces/manifest.json'), 'utf8')));

const list: AttributeList = {
  modelVersion: manifest.version,
  latentDim: manifest.latentDim,
  attributesVersion: null,
  states: null,
  attributes: [
    { name: 'Eyeglasses', positives: 1234, negatives: 18766, norm: 2.5, method: null, scale: null, alsoChanges: null },
    { name: 'Smiling', positives: 9650, negatives: 10350, norm: 1.25, method: null, scale: null, alsoChanges: null },
    { name: 'Blond_Hair', positives: 2980, negatives: 17020, norm: 1.8, method: null, scale: null, alsoChanges: null },
  ],
};
const names = list.attributes.map((a) => a.name);
const model = { version: manifest.version, latentDim: manifest.latentDim, attributeNames: names };
const base = quantizeLatent(Array.from({ length: manifest.latentDim }, (_, i) => (i % 7) / 4 - 0.75));

describe('the faces studio state (site/scripts/faces/studio.ts)', () => {
  it('starts empty, unsteered and with the address left as it came', () => {
    const s = newFacesState();
    expect(s.base.length).toBe(0);
    expect(currentSliders(s)).toEqual([]);
    expect(s.addressLive).toBe(false);
    expect(s.endpoints).toEqual({ a: null, b: null });
    expect(s.path).toBe('slerp');
    expect(s.temperature).toBe(0.7);
  });

  it('gives every listed attribute a slider at 0, keeping one set before the list came', () => {
    const s = newFacesState();
    s.sliders.set('Smiling', 0.8);
    adoptAttributes(s, list);
    expect(s.order).toEqual(names);
    expect([...s.sliders]).toEqual([
      ['Smiling', 0.8],
      ['Eyeglasses', 0],
      ['Blond_Hair', 0],
    ]);
    expect(s.attributeProblem).toBeNull();
  });

  it('lists the set sliders in the API order, whatever order they were moved in', () => {
    const s = newFacesState();
    adoptAttributes(s, list);
    setSliderValue(s, 'Blond_Hair', -0.5);
    setSliderValue(s, 'Eyeglasses', 1.234);
    expect(currentSliders(s)).toEqual([
      { name: 'Eyeglasses', value: 1.23 },
      { name: 'Blond_Hair', value: -0.5 },
    ]);
    expect(s.addressLive).toBe(true);
    // Past the end of the range: kept at the end.
    setSliderValue(s, 'Smiling', SLIDER_MAX + 5);
    expect(s.sliders.get('Smiling')).toBe(SLIDER_MAX);
  });

  it('switches faces through the recent strip: a face seen before keeps its number', () => {
    const s = newFacesState();
    adoptAttributes(s, list);
    const first = adoptFace(s, { base, sliders: [{ name: 'Smiling', value: 0.8 }] });
    expect(first.serial).toBe(1);
    expect(s.currentSerial).toBe(1);
    expect(currentFace(s)).toEqual({ base, sliders: [{ name: 'Smiling', value: 0.8 }] });
    const other = quantizeLatent(Array.from(base, (v) => -v));
    const second = adoptFace(s, { base: other, sliders: [] });
    expect(second.serial).toBe(2);
    // The sliders of the face it replaced are back at 0.
    expect(currentSliders(s)).toEqual([]);
    const again = adoptFace(s, { base: Float32Array.from(base), sliders: [{ name: 'Smiling', value: 0.8 }] });
    expect(again.serial).toBe(1);
    // The face shown is the kept entry's own point, so settling it (faces/settle.ts) finds the entry.
    expect(s.base).toBe(again.base);
    expect(s.recent.rebase(1, s.base, Float32Array.from(base, (v) => v / 2))).toBe(true);
    expect(s.recent.entries.map((e) => e.serial)).toEqual([2, 1]);
    expect(currentEntry(s)?.serial).toBe(1);
  });

  it('resets every slider and lets the address follow', () => {
    const s = newFacesState();
    adoptAttributes(s, list);
    adoptFace(s, { base, sliders: [{ name: 'Smiling', value: 0.8 }, { name: 'Eyeglasses', value: -1 }] });
    expect(s.addressLive).toBe(false);
    resetSliders(s);
    expect(currentSliders(s)).toEqual([]);
    expect(s.addressLive).toBe(true);
  });

  it("reads a face's state with the listed probes (the strongest margin), and none without states", () => {
    const s = newFacesState();
    const d = manifest.latentDim;
    const axis = (k: number) => Array.from({ length: d }, (_, i) => (i === k ? 1 : 0));
    const probe = { positives: 1, negatives: 1, norm: 1, method: null, scale: null, alsoChanges: null };
    adoptAttributes(s, { ...list, states: ['Black_Hair', 'Blond_Hair', 'Wearing_Hat'], attributes: [
      ...list.attributes.filter((a) => a.name !== 'Blond_Hair'),
      { name: 'Black_Hair', ...probe, normal: axis(0), bias: 0 },
      { name: 'Blond_Hair', ...probe, normal: axis(1), bias: -1 },
      { name: 'Wearing_Hat', ...probe, normal: axis(2), bias: 0.5 },
    ] });
    const at = (x: number, y: number, z: number) => Float32Array.from({ length: d }, (_, i) => [x, y, z][i] ?? 0);
    expect(stateOfBase(s, at(2, 2.5, 0))).toBe('Black_Hair'); // margins 2, 1.5, 0.5
    expect(stateOfBase(s, at(0, 3, 0))).toBe('Blond_Hair'); // 0, 2, 0.5
    expect(stateOfBase(s, at(-1, 0, -0.2))).toBe('Wearing_Hat'); // all below 0: still the strongest
    adoptAttributes(s, list);
    expect(stateOfBase(s, at(2, 0, 0))).toBeNull();
  });

  it('sends the face itself to the mix API only while a slider adds an attribute whose move depends on the face', () => {
    const s = newFacesState();
    const d = manifest.latentDim;
    const face = Float32Array.from({ length: d }, (_, i) => (i === 0 ? 1.5 : 0));
    adoptAttributes(s, { ...list, attributes: list.attributes.map((a, k) => (k === 0 ? { ...a, transport: 'gaussian' as const } : a)) });
    const name = list.attributes[0]!.name;
    const other = list.attributes[1]!.name;
    const sent = mixFaceOf(s, face, [{ name, value: 0.5 }]);
    expect(sent.from).toBeNull();
    const point = decodeLatent(sent.z!, d);
    expect(point.ok && Array.from(point.z)).toEqual(Array.from(face));
    expect(point.ok && point.linkVersion).toBe(linkModelVersion(list.modelVersion));
    expect(mixFaceOf(s, face, [{ name, value: -0.5 }])).toEqual({ from: null });
    expect(mixFaceOf(s, face, [{ name: other, value: 1 }])).toEqual({ from: null });
    adoptAttributes(s, list);
    expect(mixFaceOf(s, face, [{ name, value: 0.5 }])).toEqual({ from: null });
  });

  it('describes the face on screen in words', () => {
    const s = newFacesState();
    adoptAttributes(s, list);
    expect(faceDescription(s)).toEqual({ name: 'Face', steer: 'unsteered', ariaLabel: 'Face, decoded from a 0-dimensional latent point' });
    adoptFace(s, { base, sliders: [{ name: 'Blond_Hair', value: -0.5 }, { name: 'Smiling', value: 0.8 }] });
    expect(faceDescription(s)).toEqual({
      name: 'Face 1',
      steer: 'steered: smiling +0.80, blond hair −0.50',
      ariaLabel: `Face 1, decoded from a ${manifest.latentDim}-dimensional latent point, steered: smiling +0.80, blond hair −0.50`,
    });
    expect(describeSliders([])).toBe('');
    expect(entryLabel(currentEntry(s)!)).toBe('Face 1, smiling +0.80, blond hair −0.50');
    expect(entryLabel({ serial: 4, base, sliders: [] })).toBe('Face 4');
  });
});

describe('a link on arrival (site/scripts/faces/arrival.ts)', () => {
  const link = (sliders: string) => `?${encodeShareQuery({ z: base, sliders: [] }, manifest.version)}${sliders ? `&a=${sliders}` : ''}`;

  it('leaves the address alone when there is no link', () => {
    expect(planArrival({ kind: 'none' }, true, null)).toEqual({ face: null, addressLive: false, notices: [] });
  });

  it('refuses a broken point and offers a fresh face', () => {
    const plan = planArrival(readFacesArrival('?z=1.bad.@@', model), true, null);
    expect(plan.face).toBeNull();
    expect(plan.addressLive).toBe(false);
    expect(plan.notices).toHaveLength(1);
    expect(plan.notices[0]).toMatchObject({ kind: 'error', title: 'This link could not be opened', offerFreshFace: true });
    expect(plan.notices[0]!.text).toMatch(/ Here is a fresh random face instead\.$/);
  });

  it('shows a good link as it is, with no notice', () => {
    const plan = planArrival(readFacesArrival(link('Smiling:0.8'), model), true, null);
    expect(plan.addressLive).toBe(true);
    expect(plan.notices).toEqual([]);
    expect(Array.from(plan.face!.base)).toEqual(Array.from(base));
    expect(plan.face!.sliders).toEqual([{ name: 'Smiling', value: 0.8 }]);
  });

  it('keeps the point of a link with a slider past its end, and says so', () => {
    const past = SLIDER_MAX + 0.5;
    const plan = planArrival(readFacesArrival(link(`Smiling:${past}`), model), true, null);
    expect(plan.face!.sliders).toEqual([{ name: 'Smiling', value: SLIDER_MAX }]);
    expect(plan.notices).toEqual([{ kind: 'warning', title: 'A slider in this link goes past its end', text: expect.stringContaining(`Smiling to ${past}`) }]);
  });

  it('keeps a link from another model version, and says so', () => {
    const plan = planArrival(readFacesArrival(`?${encodeShareQuery({ z: base, sliders: [] }, 'deadbeef')}`, model), true, null);
    expect(plan.face).not.toBeNull();
    expect(plan.notices[0]).toMatchObject({ kind: 'warning', title: OTHER_VERSION_TITLE });
  });

  it('shows the face without its sliders when the attribute service is away, naming them', () => {
    const arrival = readFacesArrival(link('Smiling:0.8,Eyeglasses:-0.5'), { ...model, attributeNames: null });
    const plan = planArrival(arrival, false, 'the attribute service answered HTTP 503');
    expect(plan.face!.sliders).toEqual([]);
    expect(Array.from(plan.face!.base)).toEqual(Array.from(base));
    expect(plan.addressLive).toBe(true);
    expect(plan.notices).toEqual([
      {
        kind: 'warning',
        title: 'The sliders in this link could not be applied',
        text: 'The attribute service answered HTTP 503. Showing the face without its settings (smiling +0.80, eyeglasses −0.50).',
      },
    ]);
    expect(planArrival(arrival, false, null).notices[0]!.text).toMatch(/^The attribute service did not answer\./);
  });
});

describe('steering words (site/scripts/faces/steer.ts)', () => {
  it('says what a slider shows at a value', () => {
    expect(sliderView('Blond_Hair', 0)).toEqual({ text: '0.00', ariaValueText: 'Blond hair 0.00', isSet: false });
    expect(sliderView('Smiling', -1.5)).toEqual({ text: '−1.50', ariaValueText: 'Smiling −1.50', isSet: true });
  });

  it('says how a direction was measured, and what happens when the API fails', () => {
    expect(attributeTitle(list.attributes[0]!)).toBe('1,234 faces with, 18,766 without; vector length 2.50');
    expect(attributeTitle({ ...list.attributes[1]!, method: 'balanced-difference', scale: { add: 1.9, remove: 2.25 } })).toBe(
      '9,650 faces with, 10,350 without; direction: balanced difference; +1 moves the face 1.90 along it, −1 moves it 2.25 back',
    );
    expect(attributeTitle({ ...list.attributes[2]!, method: 'probe', scale: { add: 4, remove: 2 }, fromStates: ['Black_Hair', 'Wearing_Hat'] })).toBe(
      '2,980 faces with, 17,020 without; direction: probe; +1 moves the face 4.00 along it, −1 moves it 2.00 back. Adding it starts from what the face has now: its own calibrated move from black hair, wearing hat',
    );
    expect(attributeTitle({ ...list.attributes[2]!, method: 'probe', scale: { add: 4, remove: 2 }, fromStates: ['Black_Hair'], transport: 'gaussian' })).toBe(
      '2,980 faces with, 17,020 without; −1 moves the face 2.00 back along its direction (probe); +1 follows a move fitted to this face: the optimal transport from the faces without it to the faces with it, which moves a face far from them further than one close by',
    );
    expect(attributeTitle({ ...list.attributes[2]!, method: 'probe', scale: { add: 4, remove: 2 }, transport: 'network' })).toBe(
      '2,980 faces with, 17,020 without; −1 moves the face 2.00 back along its direction (probe); +1 follows this face\'s own move, given by a small network fitted to pairs of the same avatar drawn without and with it',
    );
  });

  it('says what else the set sliders change, with "keep the others" off and on', () => {
    const measured = list.attributes.map((a) => a.name === 'Blond_Hair'
      ? { ...a, alsoChanges: { free: [{ name: 'Mustache', share: 0.12 }, { name: 'Pale_Skin', share: 0.01 }], kept: [{ name: 'Mustache', share: 0.03 }] } }
      : a.name === 'Smiling' ? { ...a, alsoChanges: { free: [], kept: [] } } : a);
    expect(effectsText(measured, [], false)).toBe('');
    // An attribute without measurements (an older bundle) says nothing.
    expect(effectsText(measured, [{ name: 'Eyeglasses', value: 1 }], false)).toBe('');
    expect(effectsText(measured, [{ name: 'Blond_Hair', value: 1 }, { name: 'Smiling', value: -0.5 }], false)).toBe(
      'Blond hair also changes: mustache 12%. Smiling also changes: nothing else measurably. (Share of held-out faces a full slider changed.)',
    );
    expect(effectsText(measured, [{ name: 'Blond_Hair', value: 1 }], true)).toBe('Blond hair also changes: mustache 3%. (Share of held-out faces a full slider changed, keeping the others.)');
  });

  it('keeps "keep the others" beside the sliders: links set it, new faces leave it as it is', () => {
    const s = newFacesState();
    adoptAttributes(s, list);
    adoptFace(s, { base, sliders: [{ name: 'Smiling', value: 1 }], keep: true });
    expect(currentFace(s)).toEqual({ base, sliders: [{ name: 'Smiling', value: 1 }], keep: true });
    adoptFace(s, { base, sliders: [] });
    expect(s.keep).toBe(true);
    setKeep(s, false);
    expect(currentFace(s)).toEqual({ base, sliders: [] });
    expect(s.addressLive).toBe(true);
    expect(attributesMissingText('the attribute service could not be reached (offline)')).toBe(
      'The attribute service could not be reached (offline). The sliders are off until it answers; generating, morphing and sharing still work.',
    );
    expect(mixFailedText('the attribute service answered HTTP 500')).toBe('The attribute service answered HTTP 500. The face shows the last setting that loaded.');
  });
});

describe('the morph (site/scripts/faces/morph.ts)', () => {
  it('words frame rates and positions', () => {
    expect([58.4, 10, 4.25].map(formatFps)).toEqual(['58', '10', '4.3']);
    expect([0, 0.25].map(morphValueText)).toEqual(['100% face A, 0% face B', '75% face A, 25% face B']);
  });

  it('reads a pasted share link as an end, or says why it cannot', () => {
    const href = 'https://atelier.test/faces';
    const good = readEndpointLink(`  https://atelier.test/faces?${encodeShareQuery({ z: base, sliders: [{ name: 'Smiling', value: 0.8 }] }, manifest.version)}  `, href, model);
    expect(good.ok).toBe(true);
    if (good.ok) expect(good.arrival.face.sliders).toEqual([{ name: 'Smiling', value: 0.8 }]);
    expect(readEndpointLink('http://[nonsense', href, model)).toEqual({ ok: false, message: 'That is not a link. Paste a share link from this studio (it contains “?z=”).' });
    expect(readEndpointLink('/faces?backend=wasm', href, model)).toEqual({ ok: false, message: 'That link holds no face: a share link from this studio contains “?z=”.' });
    const broken = readEndpointLink('/faces?z=1.bad.@@', href, model);
    expect(broken.ok).toBe(false);
  });
});

describe('downloads and new faces (site/scripts/faces/downloads.ts, generate.ts)', () => {
  it('picks the first PNG size of at least 256 pixels, and a video no larger than 512', () => {
    expect(defaultPngSize(64)).toBe(256);
    expect(defaultPngSize(28)).toBe(448);
    expect(defaultPngSize(2048)).toBe(2048);
    expect(videoSize(1024)).toBe(512);
    expect(videoSize(128)).toBe(128);
    expect(videoSize(NaN)).toBe(256);
  });

  it('tells the visitor where a steered face went', () => {
    expect(keptSteeringText(3)).toBe(' Sliders back at 0; Face 3 keeps its steering in the recent faces.');
  });
});

describe('the faces model facts (site/scripts/faces/facts.ts)', () => {
  it('lists the shared rows with the sampler, the images and the attribute directions', () => {
    const s = newFacesState();
    const labels = facesFacts(s, manifest).map((f) => f.label);
    expect(labels.slice(0, 8)).toEqual(['Dataset', 'Latent space', 'Images', 'Training', 'Test loss (nats per image)', 'Decoder', 'Attribute directions', 'Model version']);
    expect(facesFacts(s, manifest)[2]!.value).toBe(`${manifest.image.width} × ${manifest.image.height} pixels, colour`);
    expect(facesFacts(s, manifest)[6]!.value).toBe('unavailable right now');
    adoptAttributes(s, list);
    expect(facesFacts(s, manifest)[6]!.value).toBe('3, from the edge API');
    expect(facesFacts(s, manifest)[1]!.value).toBe(`${manifest.latentDim} dimensions, prior N(0, I)`);
  });
});
