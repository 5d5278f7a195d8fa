import { describe, expect, it } from 'vitest';
import { decodeHalf, encodeHalf, fromHalfBits, roundToHalf, toHalfBits } from '../../lib/float16.ts';
import { fromBase64Url, toBase64Url } from '../../lib/base64url.ts';
import { decodeShareQuery, encodeShareQuery, encodeLatent, OTHER_VERSION_TITLE, quantizeLatent } from '../../lib/latent-url.ts';
import { lerp, slerp } from '../../lib/interp.ts';
import { normalQuantile, quantileAxis } from '../../lib/stats.ts';
import { attributeVector, EDIT_SHEET_ATTRIBUTES, editShareText, editSheetColumns, mixVectors, parseMixTerms } from '../../lib/attributes.ts';
import { betaText, parseManifest, parseAttributes, BundleError } from '../../lib/bundle.ts';
import { readFileSync } from 'node:fs';

describe('float16', () => {
  it('encodes hand-checked values', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(0.5)).toBe(0x3800);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(1e6)).toBe(0x7c00);
    expect(toHalfBits(2 ** -24)).toBe(0x0001);
    expect(toHalfBits(-0)).toBe(0x8000);
    expect(toHalfBits(NaN) & 0x7c00).toBe(0x7c00);
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties go to even (1).
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });
  it('decodes hand-checked values', () => {
    expect(fromHalfBits(0x3c00)).toBe(1);
    expect(fromHalfBits(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(fromHalfBits(0x0001)).toBe(2 ** -24);
    expect(fromHalfBits(0xfc00)).toBe(-Infinity);
  });
  it('round-trips every finite half exactly', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = fromHalfBits(h);
      if (Number.isNaN(v)) continue;
      expect(toHalfBits(v)).toBe(h);
    }
  });
  it('packs little-endian and rejects odd byte counts', () => {
    expect(Array.from(encodeHalf([1, -2]))).toEqual([0x00, 0x3c, 0x00, 0xc0]);
    expect(Array.from(decodeHalf(encodeHalf([0.1, 3])))).toEqual(Array.from(roundToHalf([0.1, 3])));
    expect(() => decodeHalf(new Uint8Array(3))).toThrow(/even/);
  });
});

describe('base64url', () => {
  it('matches RFC 4648 test vectors (url alphabet, no padding)', () => {
    const enc = (s: string) => toBase64Url(new TextEncoder().encode(s));
    expect(enc('')).toBe('');
    expect(enc('f')).toBe('Zg');
    expect(enc('fo')).toBe('Zm8');
    expect(enc('foo')).toBe('Zm9v');
    expect(enc('foobar')).toBe('Zm9vYmFy');
    expect(toBase64Url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
  });
  it('is strict', () => {
    expect(Array.from(fromBase64Url('-_8'))).toEqual([0xfb, 0xff]);
    expect(() => fromBase64Url('Zm9=')).toThrow(/not a base64url/);
    expect(() => fromBase64Url('Z')).toThrow(/length/);
    expect(() => fromBase64Url('Zh')).toThrow(/padding bits/);
  });
});

describe('share links', () => {
  const model = { version: 'abcd1234', latentDim: 2, attributeNames: ['Smiling', 'Eyeglasses'] };
  it('round-trips a point and sliders to identical floats', () => {
    const z = quantizeLatent([0.123456, -1.5]);
    const q = encodeShareQuery({ z, sliders: [{ name: 'Smiling', value: 0.8 }, { name: 'Eyeglasses', value: -0.5 }] }, model.version);
    expect(q).toMatch(/^z=1\.abcd1234\.[A-Za-z0-9_-]{6}&a=Smiling:0\.8,Eyeglasses:-0\.5$/);
    const r = decodeShareQuery(new URLSearchParams(q), model);
    expect(r.ok && r.versionMatches).toBe(true);
    if (!r.ok) return;
    expect(Array.from(r.state.z)).toEqual(Array.from(z));
    expect(r.state.sliders).toEqual([{ name: 'Smiling', value: 0.8 }, { name: 'Eyeglasses', value: -0.5 }]);
  });
  it('keeps the point but says so when the model version differs', () => {
    const r = decodeShareQuery(new URLSearchParams(`z=${encodeLatent([1, 2], 'ffff0000')}`), model);
    expect(r.ok).toBe(true);
    if (r.ok && !r.versionMatches) {
      expect(r.message).toBe('The link names model version ffff0000; this site now has version abcd1234. The point is restored, but the picture may differ from the one that was shared.');
      // The notice shows OTHER_VERSION_TITLE above the message: no run of four of its words comes back.
      const words = OTHER_VERSION_TITLE.toLowerCase().split(' ');
      for (let i = 0; i + 4 <= words.length; i++) expect(r.message.toLowerCase()).not.toContain(words.slice(i, i + 4).join(' '));
    } else throw new Error('expected a version mismatch');
  });
  it('counts numbers and dimensions in the singular when there is one', () => {
    const one = decodeShareQuery(new URLSearchParams('z=1.abcd1234.AAA'), model);
    expect(one.ok === false && one.message).toBe("The latent point in this link has 1 number, but this model's latent space has 2 dimensions.");
    const three = decodeShareQuery(new URLSearchParams('z=1.abcd1234.AAAAAAAA'), { ...model, latentDim: 1 });
    expect(three.ok === false && three.message).toBe("The latent point in this link has 3 numbers, but this model's latent space has 1 dimension.");
  });
  const bad: [string, RegExp][] = [
    ['', /no latent point/],
    ['z=garbage', /malformed/],
    ['z=2.abcd1234.AAAAAA', /format "2"/],
    ['z=1.ABCD.AAAAAA', /model version/],
    ['z=1.abcd1234.AA*AAA', /corrupted/],
    ['z=1.abcd1234.AAAA', /2 dimensions/],
    [`z=1.abcd1234.${toBase64Url(encodeHalf([Infinity, 0]))}`, /out of range/],
    [`z=1.abcd1234.${toBase64Url(encodeHalf([100, 0]))}`, /out of range/],
    ['z=1.abcd1234.AAAAAA&z=1.abcd1234.AAAAAA', /more than one/],
    ['z=1.AAAAAA&a=Smiling:1', /malformed/],
  ];
  // A bad slider setting costs only itself: the point and the other settings stay.
  const sliderCases: [string, { name: string; value: number }[], object[]][] = [
    ['Smiling', [], [{ kind: 'dropped', term: 'Smiling', message: 'Left out "Smiling": a slider setting is Name:number, such as Smiling:0.8.' }]],
    ['Smiling:NaN,Eyeglasses:1', [{ name: 'Eyeglasses', value: 1 }], [{ kind: 'dropped', term: 'Smiling:NaN' }]],
    ['Wings:1,Smiling:0.5', [{ name: 'Smiling', value: 0.5 }], [{ kind: 'dropped', term: 'Wings:1', message: 'Left out "Wings:1": this model has no attribute "Wings".' }]],
    ['Smiling:1,Smiling:2', [{ name: 'Smiling', value: 1 }], [{ kind: 'dropped', term: 'Smiling:2', message: 'Left out "Smiling:2": Smiling is already set earlier in the link.' }]],
    ['Smiling:2', [{ name: 'Smiling', value: 2 }], []],
    ['Smiling:2.5', [{ name: 'Smiling', value: 2 }], [{ kind: 'clamped', name: 'Smiling', asked: 2.5, used: 2, message: 'The link sets Smiling to 2.5, past the end of its slider (±2), so it is set to 2.' }]],
    ['Smiling:-4', [{ name: 'Smiling', value: -2 }], [{ kind: 'clamped', asked: -4, used: -2 }]],
    ['Smiling:4.01', [], [{ kind: 'dropped', term: 'Smiling:4.01', message: `Left out "Smiling:4.01": 4.01 is far outside the sliders' range of ±2.` }]],
    ['Smiling:99', [], [{ kind: 'dropped', term: 'Smiling:99' }]],
    ['Smiling:0.1234', [{ name: 'Smiling', value: 0.12 }], []],
  ];
  for (const [a, sliders, notes] of sliderCases) {
    it(`keeps the point of a link with a=${a}, and notes what was not used as written`, () => {
      const z = quantizeLatent([0.5, -1]);
      const r = decodeShareQuery(new URLSearchParams(`z=${encodeLatent(z, model.version)}&a=${a}`), model);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(Array.from(r.state.z)).toEqual(Array.from(z));
      expect(r.state.sliders).toEqual(sliders);
      expect(r.notes).toHaveLength(notes.length);
      r.notes.forEach((n, i) => expect(n).toMatchObject(notes[i]!));
    });
  }
  describe('links and the version of the attribute directions', () => {
    const withDirections = { ...model, attributesVersion: 'abcdef01' };
    const z = quantizeLatent([0.5, -1]);
    const sliders = [{ name: 'Smiling', value: 0.8 }];

    it('writes the directions version and "keep the others" beside the sliders, and reads them back without a note', () => {
      const q = encodeShareQuery({ z, sliders, keep: true }, model.version, 'abcdef01');
      expect(q).toMatch(/&a=Smiling:0\.8&av=abcdef01&k=1$/);
      const r = decodeShareQuery(new URLSearchParams(q), withDirections);
      expect(r.ok && r.state).toMatchObject({ sliders, keep: true });
      expect(r.ok && r.notes).toEqual([]);
    });

    it('writes neither without sliders (the point alone does not depend on them)', () => {
      expect(encodeShareQuery({ z, sliders: [], keep: true }, model.version, 'abcdef01')).not.toMatch(/av=|k=/);
    });

    it.each([
      ['an older link without av', '', /an earlier version of the attribute directions/],
      ['a link made with other directions', '&av=12345678', /another version \(12345678\) of the attribute directions/],
      ['a malformed av', '&av=zz', /an earlier version of the attribute directions/],
    ])('restores %s exactly, sliders included, and says the sliders now steer differently', (_what, av, message) => {
      const r = decodeShareQuery(new URLSearchParams(`${encodeShareQuery({ z, sliders }, model.version)}${av}`), withDirections);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(Array.from(r.state.z)).toEqual(Array.from(z));
      expect(r.state.sliders).toEqual(sliders);
      expect(r.notes).toHaveLength(1);
      expect(r.notes[0]).toMatchObject({ kind: 'directions', message });
    });
  });

  it('leaves out every slider setting of a link with two "a" parameters', () => {
    const r = decodeShareQuery(new URLSearchParams(`z=${encodeLatent([0, 0], model.version)}&a=Smiling:1&a=Eyeglasses:1`), model);
    expect(r.ok && r.state.sliders).toEqual([]);
    expect(r.ok && r.notes.map((n) => n.message)).toEqual(['The link has more than one "a" parameter, so its slider settings were left out.']);
  });

  for (const [query, message] of bad) {
    it(`refuses ${JSON.stringify(query)}`, () => {
      const r = decodeShareQuery(new URLSearchParams(query), model);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(message);
    });
  }
});

describe('interpolation', () => {
  it('lerp and slerp hit their endpoints', () => {
    const a = [1, 0];
    const b = [0, 2];
    expect(Array.from(lerp(a, b, 0.5))).toEqual([0.5, 1]);
    expect(Array.from(slerp(a, b, 0))).toEqual([1, 0]);
    const end = slerp(a, b, 1);
    expect(end[0]).toBeCloseTo(0, 6);
    expect(end[1]).toBeCloseTo(2, 6);
  });
  it('slerp between orthogonal unit vectors stays on the circle', () => {
    const m = slerp([1, 0], [0, 1], 0.5);
    expect(m[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(m[1]).toBeCloseTo(Math.SQRT1_2, 6);
  });
  it('slerp falls back to lerp for parallel vectors and refuses mismatched sizes', () => {
    expect(Array.from(slerp([1, 1], [2, 2], 0.5))).toEqual([1.5, 1.5]);
    expect(() => slerp([1], [1, 2], 0.5)).toThrow(/dimensions/);
  });
});

describe('normal quantiles', () => {
  it('matches tabulated values', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 7);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326347874040841, 7);
    expect(normalQuantile(1e-6)).toBeCloseTo(-4.753424308822899, 5);
  });
  it('gives a symmetric grid axis', () => {
    const axis = quantileAxis(4);
    expect(axis[0]).toBeCloseTo(-axis[3]!, 10);
    expect(axis[1]).toBeCloseTo(normalQuantile(0.375), 10);
  });
});

describe('the attribute edit table and sheet', () => {
  it('prints a share of nothing as a dash with the count, never NaN%', () => {
    expect(editShareText(0.755, 200)).toBe('76%');
    expect(editShareText(1, 1)).toBe('100%');
    expect(editShareText(0.5, 8, 1)).toBe('50.0%');
    expect(editShareText(NaN, 0)).toBe('— (0 faces)');
    // NaN in the manifest arrives as null (JSON has no NaN).
    expect(editShareText(null, 0)).toBe('— (0 faces)');
    expect(editShareText(0, 0)).toBe('— (0 faces)');
    expect(editShareText(null, 1)).toBe('— (1 face)');
    for (const v of [NaN, null, undefined, 0.3]) expect(editShareText(v, 0)).not.toMatch(/NaN/);
  });

  it('labels the sheet columns: the reconstruction, then the listed edits the model has, in order', () => {
    expect(editSheetColumns(['Bald', 'Smiling', 'Mustache', 'Pale_Skin'])).toEqual([
      { name: 'reconstruction', edit: false },
      { name: 'Smiling', edit: true },
      { name: 'Mustache', edit: true },
      { name: 'Bald', edit: true },
    ]);
    expect(editSheetColumns([])).toEqual([{ name: 'reconstruction', edit: false }]);
  });

  it('uses the same attribute list as training/faces.ts, which draws the sheet', () => {
    const source = readFileSync(new URL('../../training/faces.ts', import.meta.url), 'utf8');
    const literal = /const SHEET_ATTRIBUTES\s*=\s*(\[[^\]]*\])/.exec(source)?.[1];
    if (literal) expect(JSON.parse(literal.replace(/'/g, '"'))).toEqual([...EDIT_SHEET_ATTRIBUTES]);
    else expect(source).toMatch(/EDIT_SHEET_ATTRIBUTES/);
  });
});

describe('attribute vectors', () => {
  it('is the difference of class means (hand-computed)', () => {
    // Three points in 2-D: two with the attribute at (1,2) and (3,4), one without at (10,0).
    const { vector, positives, negatives } = attributeVector([1, 2, 3, 4, 10, 0], 2, [1, 1, -1]);
    expect(Array.from(vector)).toEqual([2 - 10, 3 - 0]);
    expect([positives, negatives]).toEqual([2, 1]);
  });
  it('mixes weighted vectors', () => {
    const v = new Map([['A', [1, 0]], ['B', [0, 2]]]);
    expect(Array.from(mixVectors(v, [{ name: 'A', weight: 0.5 }, { name: 'B', weight: -1 }], 2))).toEqual([0.5, -2]);
  });
  it('validates mix terms', () => {
    const known = new Set(['Smiling', 'Bald']);
    expect(parseMixTerms([['Smiling', '0.8'], ['Bald', '-1e-1']], known)).toEqual({ ok: true, terms: [{ name: 'Smiling', weight: 0.8 }, { name: 'Bald', weight: -0.1 }] });
    expect(parseMixTerms([['Smiling', 'NaN']], known)).toMatchObject({ ok: false, status: 400 });
    expect(parseMixTerms([['Smiling', 'Infinity']], known)).toMatchObject({ ok: false, status: 400 });
    expect(parseMixTerms([['Smiling', '1e9']], known)).toMatchObject({ ok: false, status: 400 });
    expect(parseMixTerms([['Smiling', '1'], ['Smiling', '2']], known)).toMatchObject({ ok: false, status: 400 });
    expect(parseMixTerms([['Wings', '1']], known)).toMatchObject({ ok: false, status: 404 });
    expect(parseMixTerms([], known)).toMatchObject({ ok: false, status: 400 });
  });
});

describe('bundle manifest', () => {
  const good = {
    format: 1, id: 'digits', title: 'Digits', version: 'abcd1234', latentDim: 2,
    image: { height: 28, width: 28, channels: 1 }, decoder: 'decoder/model.json', encoder: null, latentMap: null, attributes: null, history: null,
    dataset: { name: 'MNIST', train: 60000, test: 10000 },
    training: { command: 'npm run train', epochs: 1, batchSize: 64, beta: 1, backend: 'wasm', seconds: 1 },
    metrics: { test: { negElbo: 150, reconstruction: 145, kl: 5 } },
  };
  it('accepts a good manifest', () => {
    expect(parseManifest(good).latentDim).toBe(2);
  });
  const cases: [string, object, RegExp][] = [
    ['a path outside the bundle', { decoder: '../secret.json' }, /relative path inside the bundle/],
    ['an absolute URL', { decoder: 'https://evil.example/model.json' }, /relative path/],
    ['a bad id', { id: 'Digits!' }, /"id" must match/],
    ['a missing latentDim', { latentDim: undefined }, /latentDim/],
    ['a future format', { format: 2 }, /format 2 is not supported/],
    ['a NaN metric', { metrics: { test: { negElbo: 'x', reconstruction: 1, kl: 1 } } }, /negElbo/],
  ];
  for (const [what, patch, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(() => parseManifest({ ...good, ...patch })).toThrow(BundleError);
      expect(() => parseManifest({ ...good, ...patch })).toThrow(message);
    });
  }
  it('checks attribute vectors against the latent size', () => {
    const attrs = { attributes: [{ name: 'Smiling', vector: [1, 2], positives: 3, negatives: 4, norm: 2.2 }] };
    expect(parseAttributes(attrs, { latentDim: 2 }).attributes[0]!.name).toBe('Smiling');
    expect(() => parseAttributes(attrs, { latentDim: 3 })).toThrow(/3 finite numbers/);
  });
});

describe('betaText', () => {
  const training = { command: 'x', epochs: 3, batchSize: 64, beta: 0.05, backend: 'wasm', seconds: 1 };
  it('names one beta, or the sequence of a run trained in phases', () => {
    expect(betaText(training)).toBe('β = 0.05');
    expect(betaText({ ...training, phases: [{ beta: 1 }, { beta: 0.25 }, { beta: 0.05 }, { beta: 0.05 }] })).toBe('β = 1 → 0.25 → 0.05');
    // A phase that changed only the learning rate adds no step; junk is ignored.
    expect(betaText({ ...training, beta: 1, phases: [{ beta: 1 }, { beta: 1 }] })).toBe('β = 1');
    expect(betaText({ ...training, phases: 'nonsense' })).toBe('β = 0.05');
  });
});
