/**
 * Every route of the attribute API, its errors, ETag/304, HEAD, CORS and 405,
 * through the compiled Pages worker in workerd over the fixture bundles
 * (test/fixtures/models: digits without attributes, faces with four, and a
 * bundle on disk that index.json does not deploy).
 */
import { createPagesEventContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import * as mixRoute from '../../functions/api/models/[id]/mix.ts';
import { fromBase64Url } from '../../lib/base64url.ts';
import { decodeHalf } from '../../lib/float16.ts';
import { MAX_ABS_WEIGHT, MAX_MIX_TERMS } from '../../lib/attributes.ts';
import { encodeLatent, linkModelVersion } from '../../lib/latent-url.ts';
import { MAX_CONDITIONAL_GAIN } from '../../lib/steer.ts';
import { call, expectError, jsonOf, ORIGIN } from './helpers.ts';

const SMILING = [1, 0, 0, 0, 0, 0, 0, 0];
const BLOND = [0, 2, 0, 0, 0, 0, 0, -2];
const MALE = [0.25, -0.125, 3, 0, -1.5, 0, 0.0625, 0];
const EYEGLASSES = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
/** The fixture's calibrated scales: slider +1 = add × vector, -1 = -remove × vector. */
const SCALE = { Smiling: { add: 2, remove: 3 }, Blond_Hair: { add: 2.5, remove: 1.5 }, Eyeglasses: { add: 4, remove: 4 }, Male: { add: 1, remove: 1 } };
const ATTRIBUTES_VERSION = 'dbf9b7ed';

const FACES = {
  id: 'faces',
  title: 'Faces (fixture)',
  version: 'f4ces000',
  latentDim: 8,
  image: { height: 64, width: 64, channels: 3 },
  attributeCount: 5,
  manifest: `${ORIGIN}/models/faces/manifest.json`,
  attributes: `${ORIGIN}/api/models/faces/attributes`,
};
const DIGITS = {
  id: 'digits',
  title: 'Handwritten digits (MNIST)',
  version: 'd1g1ts00',
  latentDim: 2,
  image: { height: 28, width: 28, channels: 1 },
  attributeCount: 0,
  manifest: `${ORIGIN}/models/digits/manifest.json`,
  attributes: null,
};

/** One path per route, each answering 200. */
const ROUTES = [
  '/api/models',
  '/api/models/faces',
  '/api/models/faces/attributes',
  '/api/models/digits/attributes',
  '/api/models/faces/attributes/Smiling',
  '/api/models/faces/attributes/Smiling?format=f16',
  '/api/models/faces/mix?Smiling=0.8&Blond_Hair=-0.5',
];

describe('GET /api/models', () => {
  it('lists the deployed models in index.json order, with absolute URLs', async () => {
    const response = await call('/api/models');
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual({ models: [DIGITS, FACES] });
  });

  it('lists only what index.json deploys, not every bundle folder on the site', async () => {
    const body = await jsonOf(await call('/api/models'));
    expect((body.models as { id: string }[]).map((m) => m.id)).not.toContain('hidden');
    // The folder is really there; the allow-list is what keeps it out.
    expect((await call('/models/hidden/manifest.json')).status).toBe(200);
    await expectError(await call('/api/models/hidden'), 404, /unknown model hidden/);
  });

  it('takes no query parameters', async () => {
    await expectError(await call('/api/models?page=2'), 400, /unknown query parameter "page"/);
  });
});

describe('GET /api/models/:id', () => {
  it('describes one model as the list does', async () => {
    expect(await jsonOf(await call('/api/models/faces'))).toEqual(FACES);
    expect(await jsonOf(await call('/api/models/digits'))).toEqual(DIGITS);
  });

  it('answers 404 for a well-formed unknown id and 400 for an impossible one', async () => {
    await expectError(await call('/api/models/cats'), 404, /unknown model cats; GET \/api\/models/);
    await expectError(await call('/api/models/Faces'), 400, /"Faces" is not a valid model id/);
  });
});

describe('GET /api/models/:id/attributes', () => {
  it('lists names, example counts, norms, method, calibrated scale, group, measured side effects and the vector URLs', async () => {
    const body = await jsonOf(await call('/api/models/faces/attributes'));
    expect(body).toEqual({
      model: 'faces',
      modelVersion: 'f4ces000',
      latentDim: 8,
      attributesVersion: ATTRIBUTES_VERSION,
      calibrated: true,
      sliderRange: MAX_ABS_WEIGHT,
      states: ['Blond_Hair', 'Black_Hair'],
      attributes: [
        { name: 'Smiling', positives: 480, negatives: 520, norm: 1, method: 'regression', scale: SCALE.Smiling, group: 'mouth', alsoChanges: { free: [{ name: 'Eyeglasses', share: 0.12 }], kept: [{ name: 'Eyeglasses', share: 0.02 }] }, normal: null, bias: null, from: null, transport: null, url: `${ORIGIN}/api/models/faces/attributes/Smiling` },
        // States carry their probe; Blond_Hair also says it has its own move from black hair.
        { name: 'Blond_Hair', positives: 150, negatives: 850, norm: 2.8284271247461903, method: 'balanced-difference', scale: SCALE.Blond_Hair, group: 'hair', alsoChanges: { free: [], kept: [] }, normal: [0, 1, 0, 0, 0, 0, 0, 0], bias: -0.5, from: [{ state: 'Black_Hair', scale: 1.25 }], transport: null, url: `${ORIGIN}/api/models/faces/attributes/Blond_Hair` },
        { name: 'Black_Hair', positives: 200, negatives: 800, norm: 1.4142135623730951, method: 'mean-difference', scale: { add: 2, remove: 2 }, group: 'hair', alsoChanges: { free: [], kept: [] }, normal: [0, 0, 0, 0, 0, 1, 0, 0], bias: -0.25, from: null, transport: null, url: `${ORIGIN}/api/models/faces/attributes/Black_Hair` },
        { name: 'Eyeglasses', positives: 65, negatives: 935, norm: 1.4142135623730951, method: 'mean-difference', scale: SCALE.Eyeglasses, group: null, alsoChanges: { free: [{ name: 'Smiling', share: 0.3 }], kept: [] }, normal: null, bias: null, from: null, transport: { kind: 'gaussian', scale: 1.5 }, url: `${ORIGIN}/api/models/faces/attributes/Eyeglasses` },
        { name: 'Male', positives: 420, negatives: 580, norm: 3.366308252373808, method: 'probe', scale: SCALE.Male, group: null, alsoChanges: { free: [], kept: [] }, normal: null, bias: null, from: null, transport: { kind: 'network', scale: 2 }, url: `${ORIGIN}/api/models/faces/attributes/Male` },
      ],
      omitted: [{ name: 'Bald', positives: 3, negatives: 997, reason: 'fewer than 20 positive examples' }],
    });
  });

  it('answers the digits model, which has no attributes, with an empty list', async () => {
    const response = await call('/api/models/digits/attributes');
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual({ model: 'digits', modelVersion: 'd1g1ts00', latentDim: 2, attributesVersion: null, calibrated: false, sliderRange: MAX_ABS_WEIGHT, states: null, attributes: [], omitted: [] });
  });

  it('answers 404 for an unknown model', async () => {
    await expectError(await call('/api/models/cats/attributes'), 404, /unknown model cats/);
  });
});

describe('GET /api/models/:id/attributes/:name', () => {
  it('gives the vector as JSON numbers, with its calibrated scale, method and probe normal', async () => {
    expect(await jsonOf(await call('/api/models/faces/attributes/Male'))).toEqual({
      model: 'faces',
      modelVersion: 'f4ces000',
      attributesVersion: ATTRIBUTES_VERSION,
      name: 'Male',
      latentDim: 8,
      positives: 420,
      negatives: 580,
      norm: 3.366308252373808,
      method: 'probe',
      scale: SCALE.Male,
      group: null,
      alsoChanges: { free: [], kept: [] },
      bias: null,
      format: 'json',
      vector: MALE,
      normal: [0, 0, 0.6, 0.8, 0, 0, 0, 0],
      from: null,
      transport: { kind: 'network', scale: 2, net: { sizes: [8, 2, 8], pairs: 600, weights: [1, -1, ...Array(14).fill(0), 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0] } },
    });
  });

  it('gives float16 base64url with ?format=f16, which decodes to the same vector', async () => {
    const body = await jsonOf(await call('/api/models/faces/attributes/Male?format=f16'));
    expect(body.vector).toBeUndefined();
    expect(body.format).toBe('f16');
    // 8 halves = 16 bytes = 22 base64url characters, no padding.
    expect(body.float16).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // Every value of the fixture is exactly representable in float16.
    expect(Array.from(decodeHalf(fromBase64Url(body.float16 as string)))).toEqual(MALE);
    expect(await jsonOf(await call('/api/models/faces/attributes/Male?format=json'))).toMatchObject({ format: 'json', vector: MALE });
  });

  it('percent-decodes the name (%53 is S)', async () => {
    expect(await jsonOf(await call('/api/models/faces/attributes/%53miling'))).toMatchObject({ name: 'Smiling', vector: SMILING });
  });

  it('answers 404 for unknown, omitted and wrong-case names, and for a model without attributes', async () => {
    await expectError(await call('/api/models/faces/attributes/Wavy_Hair'), 404, /unknown attribute Wavy_Hair of model faces/);
    await expectError(await call('/api/models/faces/attributes/Bald'), 404, /unknown attribute Bald/);
    await expectError(await call('/api/models/faces/attributes/smiling'), 404, /unknown attribute smiling/);
    await expectError(await call('/api/models/digits/attributes/Smiling'), 404, /model digits has no attribute vectors/);
    await expectError(await call('/api/models/cats/attributes/Smiling'), 404, /unknown model cats/);
  });

  it('answers 400 for impossible names and bad options', async () => {
    await expectError(await call('/api/models/faces/attributes/Smi-ling'), 400, /"Smi-ling" is not a valid attribute name/);
    await expectError(await call('/api/models/faces/attributes/..%2Fmanifest.json'), 400, /"..\/manifest.json" is not a valid attribute name/);
    await expectError(await call('/api/models/faces/attributes/%E0%A4%A'), 400, /not valid percent-encoding/);
    await expectError(await call('/api/models/faces/attributes/Smiling?format=f32'), 400, /format must be json or f16, got "f32"/);
    await expectError(await call('/api/models/faces/attributes/Smiling?format=f16&format=json'), 400, /format is given more than once/);
    await expectError(await call('/api/models/faces/attributes/Smiling?weight=1'), 400, /unknown query parameter "weight" \(it takes format\)/);
  });
});

describe('GET /api/models/:id/mix', () => {
  it('sums the weighted vectors, each at its calibrated scale for the side it moves to', async () => {
    const body = await jsonOf(await call('/api/models/faces/mix?Smiling=0.8&Blond_Hair=-0.5'));
    expect(body).toMatchObject({
      model: 'faces', modelVersion: 'f4ces000', attributesVersion: ATTRIBUTES_VERSION, latentDim: 8, keep: [],
      terms: [{ name: 'Smiling', weight: 0.8, scale: 2 }, { name: 'Blond_Hair', weight: -0.5, scale: 1.5 }],
    });
    // float32 arithmetic, printed with 9 significant digits: fround recovers the exact float32.
    const expected = SMILING.map((s, i) => 0.8 * 2 * s - 0.5 * 1.5 * BLOND[i]!);
    expect((body.vector as number[]).map(Math.fround)).toEqual(expected.map(Math.fround));
    expect(body.norm).toBeCloseTo(Math.hypot(...expected), 6);
  });

  it("mixes four terms, weights at the ±2 limit (the studio's slider range), and zero weights", async () => {
    expect(MAX_ABS_WEIGHT).toBe(2);
    const body = await jsonOf(await call('/api/models/faces/mix?Male=2&Eyeglasses=-2&Smiling=0&Blond_Hair=.5'));
    const expected = MALE.map((m, i) => 2 * m - 2 * 4 * EYEGLASSES[i]! + 0.5 * 2.5 * BLOND[i]!);
    expect((body.vector as number[]).map(Math.fround)).toEqual(expected.map(Math.fround));
    expect(await jsonOf(await call('/api/models/faces/mix?Smiling=0'))).toMatchObject({ vector: [0, 0, 0, 0, 0, 0, 0, 0], norm: 0 });
    expect(await jsonOf(await call('/api/models/faces/mix?Smiling=%2B2e-1'))).toMatchObject({ terms: [{ name: 'Smiling', weight: 0.2 }] });
    expect(await jsonOf(await call('/api/models/faces/mix?Smiling=-2.0'))).toMatchObject({ terms: [{ name: 'Smiling', weight: -2, scale: 3 }] });
  });

  it('does not depend on the order of the terms', async () => {
    const a = await jsonOf(await call('/api/models/faces/mix?Smiling=0.3&Male=-1.25'));
    const b = await jsonOf(await call('/api/models/faces/mix?Male=-1.25&Smiling=0.3'));
    expect(a.vector).toEqual(b.vector);
  });

  it.each([
    ['NaN', /weight of Smiling must be a number, got "NaN"/],
    ['Infinity', /must be a number, got "Infinity"/],
    ['-Infinity', /must be a number/],
    ['1e400', /finite number within ±2, the range of the studio's sliders/],
    ['2.01', /within ±2/],
    ['-2.5', /within ±2/],
    ['10', /within ±2/],
    ['', /must be a number, got ""/],
    ['0x10', /must be a number/],
    ['1,5', /must be a number/],
  ])('answers 400 for the weight %j', async (weight, pattern) => {
    await expectError(await call(`/api/models/faces/mix?Smiling=${encodeURIComponent(weight)}`), 400, pattern);
  });

  it('answers 400 for a repeated name, too many terms, no terms, a bad name, an overlong query', async () => {
    await expectError(await call('/api/models/faces/mix?Smiling=1&Smiling=0.5'), 400, /attribute Smiling is given more than once/);
    const many = Array.from({ length: MAX_MIX_TERMS + 1 }, (_, i) => `Attr${i}=1`).join('&');
    await expectError(await call(`/api/models/faces/mix?${many}`), 400, /too many attributes in one mix: 41 \(at most 40\)/);
    await expectError(await call('/api/models/faces/mix'), 400, /give at least one attribute weight, e\.g\. \?Smiling=0\.8/);
    await expectError(await call('/api/models/faces/mix?Smi-ling=1'), 400, /"Smi-ling" is not a valid attribute name/);
    await expectError(await call(`/api/models/faces/mix?Smiling=${'1'.repeat(5000)}`), 400, /query string is 5009 characters long; at most 4096/);
  });

  it('keeps the named attributes: the offset no longer moves their probe normals, and its own normal moves as far', async () => {
    const free = (await jsonOf(await call('/api/models/faces/mix?Eyeglasses=1'))).vector as number[];
    const kept = await jsonOf(await call('/api/models/faces/mix?Eyeglasses=1&keep=Smiling,Male'));
    expect(kept.keep).toEqual(['Smiling', 'Male']);
    const v = kept.vector as number[];
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    // Smiling's normal is e0, Male's (0.6 e2 + 0.8 e3): both untouched with keep, both moved without.
    expect(dot(free, SMILING)).toBeCloseTo(2, 5);
    expect(dot(v, SMILING)).toBeCloseTo(0, 5);
    expect(dot(v, [0, 0, 0.6, 0.8, 0, 0, 0, 0])).toBeCloseTo(0, 5);
    // Eyeglasses' own normal is e2: the projection leaves 0.08 of its 0.5 along it; the rescale toward 0.5 stops at the gain cap.
    expect(v[2]).toBeCloseTo(4 * 0.08 * MAX_CONDITIONAL_GAIN, 5);
    // keep=all keeps everything not steered; Smiling's group-mate is never kept against it.
    const all = await jsonOf(await call('/api/models/faces/mix?Blond_Hair=1&keep=all'));
    expect(all.keep).toEqual(['Smiling', 'Blond_Hair', 'Black_Hair', 'Eyeglasses', 'Male']);
    expect(dot(all.vector as number[], SMILING)).toBeCloseTo(0, 5);
  });

  it("adds a state attribute along its own move from the face's state with from=, and only the add side", async () => {
    const plain = await jsonOf(await call('/api/models/faces/mix?Blond_Hair=0.8'));
    expect(plain).toMatchObject({ from: null, terms: [{ name: 'Blond_Hair', weight: 0.8, scale: 2.5, from: null }] });
    expect((plain.vector as number[]).map(Math.fround)).toEqual(BLOND.map((b) => Math.fround(0.8 * 2.5 * b)));
    const moved = await jsonOf(await call('/api/models/faces/mix?Blond_Hair=0.8&Smiling=1&from=Black_Hair'));
    expect(moved).toMatchObject({ from: 'Black_Hair', terms: [{ name: 'Blond_Hair', weight: 0.8, scale: 1.25, from: 'Black_Hair' }, { name: 'Smiling', weight: 1, scale: 2, from: null }] });
    const transport = [0, 3, 0, 0, 0, -2, 0, 0];
    expect((moved.vector as number[]).map(Math.fround)).toEqual(transport.map((t, i) => Math.fround(0.8 * 1.25 * t + 2 * SMILING[i]!)));
    // Removing, and a state with no move of its own, use the direction as before.
    expect(await jsonOf(await call('/api/models/faces/mix?Blond_Hair=-1&from=Black_Hair'))).toMatchObject({ terms: [{ scale: 1.5, from: null }], vector: BLOND.map((b) => -1.5 * b + 0) });
    expect(await jsonOf(await call('/api/models/faces/mix?Blond_Hair=1&from=Blond_Hair'))).toMatchObject({ terms: [{ scale: 2.5, from: null }] });
  });

  it('answers 400 and 404 for a bad from', async () => {
    await expectError(await call('/api/models/faces/mix?Blond_Hair=1&from=Red_Hair'), 404, /from names "Red_Hair", which is not one of the states Blond_Hair, Black_Hair/);
    await expectError(await call('/api/models/faces/mix?Blond_Hair=1&from=Smiling'), 404, /not one of the states/);
    await expectError(await call('/api/models/faces/mix?Blond_Hair=1&from='), 400, /from is empty/);
    await expectError(await call('/api/models/faces/mix?Blond_Hair=1&from=Black_Hair&from=Blond_Hair'), 400, /from is given more than once/);
    await expectError(await call('/api/models/faces/mix?from=Black_Hair'), 400, /give at least one attribute weight/);
  });

  it('adds an attribute with a face-dependent transport from the face given as z=, and reads its state from it', async () => {
    // The fixture's Eyeglasses transport is z·(I/2) + 2 e2 at scale 1.5: from z = 2 e0 it moves 1.5 × (2 e2 − e0).
    const z = encodeLatent([2, 0, 0, 0, 0, 0, 0, 0], linkModelVersion('f4ces000'));
    const body = await jsonOf(await call(`/api/models/faces/mix?Eyeglasses=1&Smiling=1&z=${z}`));
    // Black_Hair's probe (e5, bias -0.25) reads this face more strongly than Blond_Hair's (e1, bias -0.5).
    expect(body).toMatchObject({ from: 'Black_Hair', face: true, terms: [{ name: 'Eyeglasses', weight: 1, scale: 1.5, from: null, move: 'transport' }, { name: 'Smiling', scale: 2, move: 'direction' }] });
    expect((body.vector as number[]).map(Math.fround)).toEqual([-1.5 + 2, 0, 3, 0, 0, 0, 0, 0].map(Math.fround));
    // The move depends on the face: from z = 0 it is 1.5 × 2 e2.
    const zero = await jsonOf(await call(`/api/models/faces/mix?Eyeglasses=0.5&z=${encodeLatent(new Float32Array(8), linkModelVersion('f4ces000'))}`));
    expect(zero.vector).toEqual([0, 0, 1.5, 0, 0, 0, 0, 0]);
    // Removing, and adding without the face, move along the direction; an explicit from= wins over the read state.
    expect(await jsonOf(await call(`/api/models/faces/mix?Eyeglasses=-1&z=${z}`))).toMatchObject({ terms: [{ scale: 4, move: 'direction' }], vector: EYEGLASSES.map((e) => -4 * e) });
    expect(await jsonOf(await call('/api/models/faces/mix?Eyeglasses=1'))).toMatchObject({ face: false, terms: [{ scale: 4, move: 'direction' }] });
    expect(await jsonOf(await call(`/api/models/faces/mix?Blond_Hair=1&from=Blond_Hair&z=${z}`))).toMatchObject({ from: 'Blond_Hair', terms: [{ scale: 2.5, move: 'direction' }] });
    // The attribute's own endpoint serves the map, as numbers or float16.
    expect(await jsonOf(await call('/api/models/faces/attributes/Eyeglasses'))).toMatchObject({ transport: { scale: 1.5, offset: [0, 0, 2, 0, 0, 0, 0, 0] } });
    const f16 = (await jsonOf(await call('/api/models/faces/attributes/Eyeglasses?format=f16'))).transport as { matrix: string; offset: string };
    expect(Array.from(decodeHalf(fromBase64Url(f16.matrix)))).toEqual(Array.from({ length: 64 }, (_, i) => (i % 9 === 0 ? 0.5 : 0)));
  });

  it('adds an attribute with a network fitted to counterfactual pairs from the face given as z=', async () => {
    // The fixture's Male network (widths 8, 2, 8) outputs |z0| e3 + e4, at scale 2.
    const at = (z: number[]) => encodeLatent(z, linkModelVersion('f4ces000'));
    const body = await jsonOf(await call(`/api/models/faces/mix?Male=1&z=${at([2, 0, 0, 0, 0, 0, 0, 0])}`));
    expect(body).toMatchObject({ face: true, terms: [{ name: 'Male', weight: 1, scale: 2, move: 'transport' }] });
    expect(body.vector).toEqual([0, 0, 0, 4, 2, 0, 0, 0]);
    // Its ReLU makes the move depend on the face non-linearly: z0 = -3 moves as far as z0 = 3.
    expect((await jsonOf(await call(`/api/models/faces/mix?Male=0.5&z=${at([-3, 0, 0, 0, 0, 0, 0, 0])}`))).vector).toEqual([0, 0, 0, 3, 1, 0, 0, 0]);
    // Removing moves along the direction.
    expect(await jsonOf(await call(`/api/models/faces/mix?Male=-1&z=${at([2, 0, 0, 0, 0, 0, 0, 0])}`))).toMatchObject({ terms: [{ move: 'direction' }] });
    // The attribute's endpoint serves the weights as numbers (kernel then bias per layer) or as the stored float16.
    expect(await jsonOf(await call('/api/models/faces/attributes/Male'))).toMatchObject({
      transport: { kind: 'network', scale: 2, net: { sizes: [8, 2, 8], pairs: 600, weights: [1, -1, ...Array(14).fill(0), 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0] } },
    });
    const f16 = (await jsonOf(await call('/api/models/faces/attributes/Male?format=f16'))).transport as { kind: string; net: { float16: string } };
    expect(f16.kind).toBe('network');
    expect(Array.from(decodeHalf(fromBase64Url(f16.net.float16))).slice(0, 2)).toEqual([1, -1]);
  });

  it('answers 400 for a bad z', async () => {
    const z = encodeLatent([2, 0, 0, 0, 0, 0, 0, 0], linkModelVersion('f4ces000'));
    await expectError(await call(`/api/models/faces/mix?Eyeglasses=1&z=${z}&z=${z}`), 400, /z is given more than once/);
    await expectError(await call('/api/models/faces/mix?Eyeglasses=1&z=abc'), 400, /z: The latent point is malformed/);
    await expectError(await call(`/api/models/faces/mix?Eyeglasses=1&z=${encodeLatent([1, 2], linkModelVersion('f4ces000'))}`), 400, /z: The latent point has 2 numbers, but this model's latent space has 8 dimensions/);
    await expectError(await call(`/api/models/faces/mix?Eyeglasses=1&z=${encodeLatent([1, 2, 3, 4, 5, 6, 7, 8], linkModelVersion('f4ces000')).replace(/^1\./, '2.')}`), 400, /z: The latent point uses share-link format "2"/);
    await expectError(await call('/api/models/faces/mix?z=' + z), 400, /give at least one attribute weight/);
  });

  it('answers 400 and 404 for a bad keep list', async () => {
    await expectError(await call('/api/models/faces/mix?Smiling=1&keep=Wavy_Hair'), 404, /keep names unknown attribute "Wavy_Hair"/);
    await expectError(await call('/api/models/faces/mix?Smiling=1&keep='), 400, /keep is empty/);
    await expectError(await call('/api/models/faces/mix?Smiling=1&keep=Male&keep=Eyeglasses'), 400, /keep is given more than once/);
    await expectError(await call('/api/models/faces/mix?keep=all'), 400, /give at least one attribute weight/);
  });

  it('answers 404 for unknown attributes and models, and for the digits model', async () => {
    await expectError(await call('/api/models/faces/mix?Smiling=1&Wavy_Hair=1'), 404, /unknown attribute Wavy_Hair/);
    await expectError(await call('/api/models/cats/mix?Smiling=1'), 404, /unknown model cats/);
    await expectError(await call('/api/models/digits/mix?Smiling=1'), 404, /model digits has no attribute vectors to mix/);
  });
});

describe('ETag and 304', () => {
  it.each(ROUTES)('%s: a content ETag, stable across requests, and 304 on If-None-Match', async (path) => {
    const first = await call(path);
    const etag = first.headers.get('ETag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(first.headers.get('Cache-Control')).toBe('public, max-age=60, stale-while-revalidate=600');
    expect((await call(path)).headers.get('ETag')).toBe(etag);

    const revalidated = await call(path, { headers: { 'If-None-Match': etag! } });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe('');
    expect(revalidated.headers.get('ETag')).toBe(etag);
    expect(revalidated.headers.get('Cache-Control')).toBe(first.headers.get('Cache-Control'));
    expect(revalidated.headers.get('Access-Control-Allow-Origin')).toBe('*');
  });

  it('compares weakly, accepts lists and *, and answers 200 to a stale tag', async () => {
    const path = '/api/models/faces/mix?Smiling=1';
    const etag = (await call(path)).headers.get('ETag')!;
    expect((await call(path, { headers: { 'If-None-Match': `W/${etag}` } })).status).toBe(304);
    expect((await call(path, { headers: { 'If-None-Match': `"stale", ${etag}` } })).status).toBe(304);
    expect((await call(path, { headers: { 'If-None-Match': '*' } })).status).toBe(304);
    expect((await call(path, { method: 'HEAD', headers: { 'If-None-Match': etag } })).status).toBe(304);
    const stale = await call(path, { headers: { 'If-None-Match': '"stale"' } });
    expect(stale.status).toBe(200);
    expect(stale.headers.get('ETag')).toBe(etag);
  });

  it('changes with the content', async () => {
    const tags = await Promise.all(['Smiling=1', 'Smiling=0.5', 'Male=1'].map(async (q) => (await call(`/api/models/faces/mix?${q}`)).headers.get('ETag')));
    expect(new Set(tags).size).toBe(3);
  });

  it('never answers an error with 304', async () => {
    const response = await call('/api/models/cats', { headers: { 'If-None-Match': '*' } });
    await expectError(response, 404, /unknown model cats/);
    expect(response.headers.get('ETag')).toBeNull();
  });
});

describe('HEAD', () => {
  it.each(ROUTES)('%s: the headers of GET without a body', async (path) => {
    const get = await call(path);
    const head = await call(path, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    for (const name of ['ETag', 'Content-Type', 'Content-Length', 'Cache-Control', 'Access-Control-Allow-Origin']) {
      expect(head.headers.get(name), name).toBe(get.headers.get(name));
    }
  });

  it('answers errors with their status and no body', async () => {
    const head = await call('/api/models/cats/attributes', { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(head.headers.get('Content-Type')).toBe('application/json; charset=utf-8');
    expect(await head.text()).toBe('');
  });
});

describe('CORS', () => {
  it('lets any origin read answers, errors included, and the ETag', async () => {
    for (const path of [...ROUTES, '/api/models/cats']) {
      const response = await call(path, { headers: { Origin: 'https://notebook.example' } });
      expect(response.headers.get('Access-Control-Allow-Origin'), path).toBe('*');
      expect(response.headers.get('Access-Control-Expose-Headers'), path).toContain('ETag');
    }
  });

  it.each([...ROUTES, '/api/nowhere'])('%s: answers the preflight', async (path) => {
    const response = await call(path, {
      method: 'OPTIONS',
      headers: { Origin: 'https://notebook.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'if-none-match' },
    });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(response.headers.get('Access-Control-Allow-Methods')).toBe('GET, HEAD, OPTIONS');
    expect(response.headers.get('Access-Control-Allow-Headers')?.toLowerCase()).toContain('if-none-match');
    expect(response.headers.get('Access-Control-Max-Age')).toBe('86400');
  });
});

describe('other methods', () => {
  it.each(ROUTES.flatMap((path) => ['POST', 'PUT', 'PATCH', 'DELETE'].map((method) => [method, path] as const)))('%s %s: 405 with Allow', async (method, path) => {
    const response = await call(path, { method, body: method === 'DELETE' ? undefined : '{"Smiling": 1}' });
    expect(response.headers.get('Allow')).toBe('GET, HEAD, OPTIONS');
    await expectError(response, 405, new RegExp(`method "${method}" is not allowed here; this API answers GET, HEAD, OPTIONS`));
  });
});

describe('paths the Pages router matches loosely', () => {
  it('matches route words in any case and allows a trailing slash; ids and names stay exact', async () => {
    expect((await call('/api/MODELS')).status).toBe(200);
    expect((await call('/api/models/faces/Mix?Smiling=1')).status).toBe(200);
    expect((await call('/api/models/faces/attributes/Smiling/')).status).toBe(200);
    await expectError(await call('/api/models/FACES'), 400, /"FACES" is not a valid model id/);
    await expectError(await call('/api/models/faces/attributes/SMILING'), 404, /unknown attribute SMILING/);
  });
});

describe('paths no route takes', () => {
  it.each(['/api', '/api/', '/api/nowhere', '/api/models/faces/attributes/Smiling/extra', '/api/models/faces/mix/extra', '/api//models', '/api/models//faces'])(
    '%s: a JSON 404, not the site',
    async (path) => {
      await expectError(await call(path), 404, /no API route at ".*"; GET \/api\/models lists the models/);
    },
  );
});

describe('the static site headers (public/_headers)', () => {
  it('sends the security headers with pages', async () => {
    const response = await call('/');
    expect(response.status).toBe(200);
    const csp = response.headers.get('Content-Security-Policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toMatch(/script-src 'self' 'wasm-unsafe-eval'(;|$)/);
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(response.headers.get('Referrer-Policy')).toBe('strict-origin-when-cross-origin');
    expect(response.headers.get('Permissions-Policy')).toContain('camera=()');
    expect(response.headers.get('Cache-Control')).not.toContain('immutable');
  });

  it('caches hashed /_astro/ files for a year, immutably', async () => {
    const response = await call('/_astro/app.B1x2y3z4.js');
    expect(response.status).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
  });

  it('isolates only the training page and its worker (COEP, one CSP that lets wasm threads start from blob:)', async () => {
    for (const path of ['/digits/train', '/_astro/train-worker-Ab12Cd34.js']) {
      const response = await call(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('Cross-Origin-Embedder-Policy'), path).toBe('require-corp');
      expect(response.headers.get('Cross-Origin-Opener-Policy'), path).toBe('same-origin');
      const csp = response.headers.get('Content-Security-Policy') ?? '';
      // Exactly one policy (a second, joined by a comma, would also be enforced).
      expect(csp, path).not.toContain(',');
      expect(csp, path).toMatch(/script-src 'self' 'wasm-unsafe-eval' blob:(;|$)/);
      expect(csp, path).toContain("frame-ancestors 'none'");
    }
    for (const path of ['/', '/_astro/app.B1x2y3z4.js']) {
      const response = await call(path);
      expect(response.headers.get('Cross-Origin-Embedder-Policy'), path).toBeNull();
      expect(response.headers.get('Content-Security-Policy'), path).toMatch(/script-src 'self' 'wasm-unsafe-eval';/);
    }
  });

  it('revalidates model files, whose names survive a redeploy', async () => {
    for (const path of ['/models/index.json', '/models/faces/manifest.json', '/models/faces/attributes.json', '/models/faces/decoder/model.json', '/models/faces/decoder/group1-shard1of1.bin']) {
      const response = await call(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('Cache-Control'), path).toBe('public, max-age=0, must-revalidate');
      expect(response.headers.get('ETag'), path).toBeTruthy();
      expect(response.headers.get('X-Content-Type-Options'), path).toBe('nosniff');
    }
  });
});

describe('a route module called directly (createPagesEventContext, the real ASSETS binding)', () => {
  it('answers /api/models/:id/mix from the params the router would give', async () => {
    const request = new Request(`${ORIGIN}/api/models/faces/mix?Male=2`) as Request<unknown, IncomingRequestCfProperties>;
    const context = createPagesEventContext<PagesFunction<Cloudflare.Env>>({ request, params: { id: 'faces' }, data: {} });
    const response = await mixRoute.onRequest(context as unknown as Parameters<typeof mixRoute.onRequest>[0]);
    await waitOnExecutionContext(context);
    expect(response.status).toBe(200);
    expect((await jsonOf(response)).vector).toEqual(MALE.map((x) => 2 * x));
    expect(SCALE.Male.add).toBe(1);
  });
});
