import { describe, expect, it } from 'vitest';
import { MAX_ABS_WEIGHT } from '../../lib/attributes.ts';
import { encodeShareQuery, OTHER_VERSION_TITLE, quantizeLatent } from '../../lib/latent-url.ts';
import {
  addLatent,
  attributeLabel,
  canonicalSliders,
  faceSearch,
  formatWeight,
  keptLinkNotice,
  mixQuery,
  readFacesArrival,
  RecentFaces,
  sampleLatent,
  SLIDER_MAX,
  SLIDER_MIN,
  sliderValue,
} from '../../site/scripts/faces/state.ts';

/** A fixed sequence of uniforms, for draws that can be checked by hand. */
function sequence(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

const model = { version: '46dc4391', latentDim: 4, attributeNames: ['Eyeglasses', 'Smiling', 'Blond_Hair'] };

describe('sampleLatent', () => {
  it('draws Box-Muller normals scaled by the temperature, rounded to float16', () => {
    // u = 1 - 0.75 = 0.25, v = 0: r = sqrt(-2 ln 0.25) = 1.6651..., cos 0 = 1, sin 0 = 0.
    const z = sampleLatent(3, 0.5, sequence([0.75, 0]));
    const r = Math.sqrt(-2 * Math.log(0.25));
    expect(Array.from(z)).toEqual(Array.from(quantizeLatent([0.5 * r, 0, 0.5 * r])));
    expect(z[0]).toBeCloseTo(0.8326, 3);
  });

  it('has roughly the prior spread at temperature 1 and is already quantized', () => {
    let s = 7;
    const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const z = sampleLatent(20_000, 1, rand);
    const mean = z.reduce((a, b) => a + b, 0) / z.length;
    const sd = Math.sqrt(z.reduce((a, b) => a + (b - mean) ** 2, 0) / z.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(sd).toBeGreaterThan(0.97);
    expect(sd).toBeLessThan(1.03);
    expect(Array.from(quantizeLatent(z))).toEqual(Array.from(z));
  });

  it('refuses a latent size that is not a positive integer', () => {
    expect(() => sampleLatent(0, 1)).toThrow(RangeError);
  });
});

describe('sliders', () => {
  it("keeps values within ±2 (twice every attribute's calibrated working point) on the two-decimal grid", () => {
    // One range for the sliders, the links and the mix API, stated in lib/attributes.ts.
    expect([SLIDER_MIN, SLIDER_MAX]).toEqual([-MAX_ABS_WEIGHT, MAX_ABS_WEIGHT]);
    expect([SLIDER_MIN, SLIDER_MAX]).toEqual([-2, 2]);
    expect(sliderValue(0.15000000000000002)).toBe(0.15);
    expect(sliderValue(1.5)).toBe(1.5);
    expect(sliderValue(7)).toBe(2);
    expect(sliderValue(-9)).toBe(-2);
    expect(Object.is(sliderValue(-0.001), 0)).toBe(true);
    expect(sliderValue(Number.NaN)).toBe(0);
  });

  it('orders settings as the API lists attributes and drops zeros', () => {
    const c = canonicalSliders(
      [
        { name: 'Smiling', value: 0.8 },
        { name: 'Blond_Hair', value: 0 },
        { name: 'Eyeglasses', value: -0.5 },
        { name: 'Unknown', value: 1 },
      ],
      model.attributeNames,
    );
    expect(c).toEqual([
      { name: 'Eyeglasses', value: -0.5 },
      { name: 'Smiling', value: 0.8 },
    ]);
    expect(mixQuery(c)).toBe('Eyeglasses=-0.5&Smiling=0.8');
    expect(mixQuery([])).toBe('');
    // "Keep the others" is part of the request and of the cache key, but only when something is steered.
    expect(mixQuery(c, true)).toBe('Eyeglasses=-0.5&Smiling=0.8&keep=all');
    expect(mixQuery([], true)).toBe('');
    // The face's state rides along, so the same sliders on a black-haired and a hatted face are different requests.
    expect(mixQuery(c, false, { from: 'Black_Hair' })).toBe('Eyeglasses=-0.5&Smiling=0.8&from=Black_Hair');
    expect(mixQuery(c, true, { from: 'Wearing_Hat' })).toBe('Eyeglasses=-0.5&Smiling=0.8&keep=all&from=Wearing_Hat');
    expect(mixQuery([], true, { from: 'Wearing_Hat' })).toBe('');
    // The face itself rides along when a transport needs it.
    expect(mixQuery(c, false, { from: null, z: '1.abcd.AAAA' })).toBe('Eyeglasses=-0.5&Smiling=0.8&z=1.abcd.AAAA');
  });

  it('labels and formats for people', () => {
    expect(attributeLabel('Blond_Hair')).toBe('Blond hair');
    expect(attributeLabel('Mouth_Slightly_Open')).toBe('Mouth slightly open');
    expect(attributeLabel('Smiling')).toBe('Smiling');
    expect(formatWeight(0.8)).toBe('+0.80');
    expect(formatWeight(-0.5)).toBe('\u22120.50');
    expect(formatWeight(0.001)).toBe('0.00');
  });

  it('adds the mix to the base point without touching it', () => {
    const base = Float32Array.of(1, 2, 3);
    expect(Array.from(addLatent(base, [0.5, -1, 0]))).toEqual([1.5, 1, 3]);
    expect(Array.from(base)).toEqual([1, 2, 3]);
    expect(() => addLatent(base, [1])).toThrow(/3-D/);
  });
});

describe('RecentFaces', () => {
  const face = (x: number) => ({ base: Float32Array.of(x, 0, 0, 0), sliders: [] });

  it('keeps the newest first, bounded, with stable serial numbers', () => {
    const r = new RecentFaces(3);
    for (let i = 1; i <= 5; i++) r.add(face(i));
    expect(r.entries.map((e) => e.serial)).toEqual([5, 4, 3]);
    expect(r.find(1)).toBeUndefined();
  });

  it('keeps a face it already holds in place and records new slider settings', () => {
    const r = new RecentFaces();
    const first = r.add(face(1));
    r.add(face(2));
    expect(r.add(face(1))).toBe(first);
    expect(r.entries.map((e) => e.serial)).toEqual([2, 1]);
    r.update(first.serial, [{ name: 'Smiling', value: 1 }]);
    expect(r.find(first.serial)!.sliders).toEqual([{ name: 'Smiling', value: 1 }]);
  });
});

describe('share links for faces', () => {
  const z = quantizeLatent([0.25, -1.5, 2, 0.1]);

  it('carries "keep the others" and the directions version in the address, and reads them back without a note', () => {
    const directions = { ...model, attributesVersion: '0a1b2c3d' };
    const search = faceSearch('?backend=cpu&av=old&k=1', { base: z, sliders: [{ name: 'Smiling', value: 0.8 }], keep: true }, model.version, '0a1b2c3d');
    expect(search).toMatch(/&a=Smiling:0\.8&av=0a1b2c3d&k=1&backend=cpu$/);
    const arrival = readFacesArrival(search, directions);
    expect(arrival).toMatchObject({ kind: 'face', face: { keep: true }, notes: [] });
    expect(keptLinkNotice(arrival)).toBeNull();
    // An older link (no av) restores the face and its sliders, and says the sliders steer differently now.
    const old = readFacesArrival(`?${encodeShareQuery({ z, sliders: [{ name: 'Smiling', value: 0.8 }] }, model.version)}`, directions);
    expect(old).toMatchObject({ kind: 'face', face: { sliders: [{ name: 'Smiling', value: 0.8 }], keep: false } });
    expect(keptLinkNotice(old)).toMatchObject({ title: 'The sliders steer differently now', text: expect.stringContaining('an earlier version of the attribute directions') });
  });

  it('round-trips the base point and the sliders, keeping other parameters', () => {
    const search = faceSearch('?backend=cpu&z=old', { base: z, sliders: [{ name: 'Smiling', value: 0.8 }, { name: 'Eyeglasses', value: -0.5 }] }, model.version);
    expect(search).toMatch(/^\?z=1\.46dc4391\.[A-Za-z0-9_-]+&a=Smiling:0\.8,Eyeglasses:-0\.5&backend=cpu$/);
    const arrival = readFacesArrival(search, model);
    expect(arrival.kind).toBe('face');
    if (arrival.kind !== 'face') return;
    expect(Array.from(arrival.face.base)).toEqual(Array.from(z));
    expect(arrival.face.sliders).toEqual([
      { name: 'Smiling', value: 0.8 },
      { name: 'Eyeglasses', value: -0.5 },
    ]);
  });

  it('is nothing to report when the address holds no face', () => {
    expect(readFacesArrival('?backend=wasm', model)).toEqual({ kind: 'none' });
  });

  it('names what is wrong with a malformed link', () => {
    const bad = readFacesArrival('?z=1.46dc4391.@@', model);
    expect(bad.kind).toBe('invalid');
    const noZ = readFacesArrival('?a=Smiling:1', model);
    expect(noZ).toMatchObject({ kind: 'invalid', message: expect.stringContaining('no “z=”') });
    const wrongSize = readFacesArrival(`?${encodeShareQuery({ z: Float32Array.of(1, 2), sliders: [] }, model.version)}`, model);
    expect(wrongSize).toMatchObject({ kind: 'invalid', message: expect.stringContaining('4 dimensions') });
  });

  it('restores a link from another model version and says so', () => {
    const arrival = readFacesArrival(`?${encodeShareQuery({ z, sliders: [] }, 'deadbeef')}`, model);
    expect(arrival).toMatchObject({ kind: 'other-version', message: expect.stringContaining('deadbeef') });
    expect(keptLinkNotice(arrival)).toEqual({ title: OTHER_VERSION_TITLE, text: (arrival as { message: string }).message });
  });

  const point = (a: string) => `?${encodeShareQuery({ z, sliders: [] }, model.version)}&a=${a}`;

  it('sets a slider a little past the end of its range to the end, and says so', () => {
    const arrival = readFacesArrival(point('Smiling:2.5,Eyeglasses:-0.5'), model);
    expect(arrival.kind).toBe('face');
    if (arrival.kind !== 'face') return;
    expect(Array.from(arrival.face.base)).toEqual(Array.from(z));
    expect(arrival.face.sliders).toEqual([
      { name: 'Smiling', value: 2 },
      { name: 'Eyeglasses', value: -0.5 },
    ]);
    expect(keptLinkNotice(arrival)).toEqual({
      title: 'A slider in this link goes past its end',
      text: 'The link sets Smiling to 2.5, past the end of its slider (±2), so it is set to 2.',
    });
    expect(readFacesArrival(point('Smiling:-4'), model)).toMatchObject({ face: { sliders: [{ name: 'Smiling', value: -2 }] }, notes: [{ kind: 'clamped', asked: -4, used: -2 }] });
  });

  it('keeps the point and leaves out only a slider setting it cannot use, naming it', () => {
    const far = readFacesArrival(point('Smiling:99,Eyeglasses:1'), model);
    expect(far.kind).toBe('face');
    if (far.kind !== 'face') return;
    expect(Array.from(far.face.base)).toEqual(Array.from(z));
    expect(far.face.sliders).toEqual([{ name: 'Eyeglasses', value: 1 }]);
    expect(keptLinkNotice(far)).toEqual({
      title: 'Part of this link was left out',
      text: `Left out "Smiling:99": 99 is far outside the sliders' range of ±2.`,
    });
    const unknown = readFacesArrival(point('Nope:1'), model);
    expect(unknown).toMatchObject({ kind: 'face', face: { sliders: [] } });
    expect(keptLinkNotice(unknown)?.text).toBe('Left out "Nope:1": this model has no attribute "Nope".');
    const several = readFacesArrival(point('Smiling,Smiling:1,Smiling:2,Blond_Hair:3'), model);
    expect(several).toMatchObject({ kind: 'face', face: { sliders: [{ name: 'Smiling', value: 1 }, { name: 'Blond_Hair', value: 2 }] } });
    expect(keptLinkNotice(several)).toEqual({
      title: 'Part of this link was left out',
      text:
        'Left out "Smiling": a slider setting is Name:number, such as Smiling:0.8. ' +
        'Left out "Smiling:2": Smiling is already set earlier in the link. ' +
        'The link sets Blond_Hair to 3, past the end of its slider (±2), so it is set to 2.',
    });
  });

  it('tells both when a link from another model version also has a slider it cannot use', () => {
    const arrival = readFacesArrival(`?${encodeShareQuery({ z, sliders: [] }, 'deadbeef')}&a=Wings:1`, model);
    expect(arrival.kind).toBe('other-version');
    const notice = keptLinkNotice(arrival)!;
    expect(notice.title).toBe(OTHER_VERSION_TITLE);
    expect(notice.text).toMatch(/^The link names model version deadbeef; .* Left out "Wings:1": this model has no attribute "Wings"\.$/);
  });

  it('has nothing to say about a link that is used as written', () => {
    expect(keptLinkNotice(readFacesArrival(point('Smiling:2'), model))).toBeNull();
    expect(keptLinkNotice(readFacesArrival('?backend=wasm', model))).toBeNull();
  });

  it('takes slider names on trust while the attribute list is unavailable', () => {
    const search = `?${encodeShareQuery({ z, sliders: [{ name: 'Smiling', value: 1.5 }] }, model.version)}`;
    const arrival = readFacesArrival(search, { ...model, attributeNames: null });
    expect(arrival).toMatchObject({ kind: 'face', face: { sliders: [{ name: 'Smiling', value: 1.5 }] } });
  });
});
