import { describe, expect, it } from 'vitest';
import { parseAttributes } from '../../lib/bundle.ts';
import { attributesVersion, conditionalDirection, faceState, keptFor, MAX_CONDITIONAL_GAIN, steerAttributes, steerOffset, termMove, transportMove, type SteerAttribute } from '../../lib/steer.ts';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i]!, 0);

describe('conditional directions', () => {
  it('leave the kept normals untouched and cross their own boundary as fast as before', () => {
    const v = [1, 1, 0];
    const keep = [[0, 1, 0]];
    const self = [Math.SQRT1_2, Math.SQRT1_2, 0];
    const c = conditionalDirection(v, keep, self);
    expect(dot(c, keep[0]!)).toBeCloseTo(0, 12);
    expect(dot(c, self)).toBeCloseTo(dot(v, self), 12);
    expect(Array.from(c)).toEqual([2, 0, 0]);
  });

  it('skip a normal already in the span of the others, and cap the gain', () => {
    const c = conditionalDirection([1, 0.01, 0], [[0, 1, 0], [0, 2, 0]]);
    expect(Array.from(c)).toEqual([1, 0, 0]);
    // Nearly all of v lies along the kept normal: the rescale would explode, so it stops at the cap.
    const tiny = conditionalDirection([0.01, 1, 0], [[0, 1, 0]], [Math.SQRT1_2, Math.SQRT1_2, 0]);
    expect(tiny[0]).toBeCloseTo(0.01 * MAX_CONDITIONAL_GAIN, 12);
  });

  it('refuse a normal of another size', () => {
    expect(() => conditionalDirection([1, 0], [[1, 0, 0]])).toThrow(/3-D normal/);
  });
});

const attrs = new Map<string, SteerAttribute>([
  ['Smiling', { name: 'Smiling', direction: [1, 0, 0], scale: { add: 2, remove: 3 }, normal: [1, 0, 0], group: 'mouth' }],
  ['Mouth_Slightly_Open', { name: 'Mouth_Slightly_Open', direction: [0, 0, 1], scale: { add: 1, remove: 1 }, normal: [0.6, 0, 0.8], group: 'mouth' }],
  ['Eyeglasses', { name: 'Eyeglasses', direction: [0, 1, 0], scale: { add: 4, remove: 4 }, normal: [0.6, 0.8, 0] }],
]);

describe('steering with calibrated scales', () => {
  it('uses the add scale for positive weights and the remove scale for negative ones', () => {
    expect(Array.from(steerOffset(attrs, [{ name: 'Smiling', weight: 1 }], 3))).toEqual([2, 0, 0]);
    expect(Array.from(steerOffset(attrs, [{ name: 'Smiling', weight: -0.5 }], 3))).toEqual([-1.5, 0, 0]);
  });

  it('keeps the others: never a member of the same group, never an attribute being steered', () => {
    expect(keptFor('Smiling', attrs, new Set(['Smiling']), attrs.keys()).map((a) => a.name)).toEqual(['Eyeglasses']);
    expect(keptFor('Smiling', attrs, new Set(['Smiling', 'Eyeglasses']), attrs.keys())).toEqual([]);
    // Eyeglasses is kept against Smiling: the offset has no component along its normal.
    const off = steerOffset(attrs, [{ name: 'Smiling', weight: 1 }], 3, attrs.keys());
    expect(dot(off, [0.6, 0.8, 0])).toBeCloseTo(0, 6);
    expect(dot(off, [1, 0, 0])).toBeCloseTo(2, 6);
    // Off, the same slider moves Eyeglasses' probe.
    expect(dot(steerOffset(attrs, [{ name: 'Smiling', weight: 1 }], 3), [0.6, 0.8, 0])).toBeCloseTo(1.2, 6);
  });

  it('names an unknown attribute', () => {
    expect(() => steerOffset(attrs, [{ name: 'Bald', weight: 1 }], 3)).toThrow(/unknown attribute Bald/);
  });
});

describe('attributes.json format 2', () => {
  const manifest = { latentDim: 2 };
  const v2 = {
    format: 2, version: 'deadbeef', latentDim: 2, modelVersion: 'abc',
    attributes: [{ name: 'Smiling', vector: [1, 0], positives: 5, negatives: 5, norm: 1, method: 'regression', scale: { add: 2, remove: 3 }, normal: [0.6, 0.8], group: 'mouth', alsoChanges: { free: [{ name: 'Pale_Skin', share: 0.05 }], kept: [] } }],
    omitted: [],
  };

  it('reads the calibration and steers by it', () => {
    const file = parseAttributes(v2, manifest);
    expect(file.attributes[0]!.scale).toEqual({ add: 2, remove: 3 });
    expect(file.version).toBe('deadbeef');
    expect(steerAttributes(file).get('Smiling')!.normal).toEqual([0.6, 0.8]);
  });

  it('steers a format-1 file as before: weight times the raw vector', () => {
    const v1 = { latentDim: 2, modelVersion: 'abc', attributes: [{ name: 'Smiling', vector: [3, 4], positives: 5, negatives: 5, norm: 5 }], omitted: [] };
    const s = steerAttributes(parseAttributes(v1, manifest));
    expect(Array.from(steerOffset(s, [{ name: 'Smiling', weight: -2 }], 2))).toEqual([-6, -8]);
    expect(s.get('Smiling')!.normal).toEqual([0.6, 0.8]);
  });

  it('says what is wrong with a bad calibration', () => {
    const bad = (patch: object) => ({ ...v2, attributes: [{ ...v2.attributes[0], ...patch }] });
    expect(() => parseAttributes(bad({ scale: { add: 0, remove: 1 } }), manifest)).toThrow(/scale" add and remove must be positive/);
    expect(() => parseAttributes(bad({ normal: [1] }), manifest)).toThrow(/"normal" must be 2 finite numbers/);
    expect(() => parseAttributes(bad({ alsoChanges: { free: [{ name: 'X', share: 2 }], kept: [] } }), manifest)).toThrow(/share" must lie in 0..1/);
    expect(() => parseAttributes({ ...v2, format: 7 }, manifest)).toThrow(/"format" 7 is not one this site reads/);
    expect(() => parseAttributes({ ...v2, version: 'xyz' }, manifest)).toThrow(/"version" must be 8 hex digits/);
  });

  it('versions a set of directions by its content', () => {
    const a = attributesVersion(v2);
    expect(a).toMatch(/^[0-9a-f]{8}$/);
    expect(attributesVersion(v2)).toBe(a);
    expect(attributesVersion({ attributes: [{ ...v2.attributes[0]!, scale: { add: 2.5, remove: 3 } }] })).not.toBe(a);
  });
});

describe('adding a state attribute from where the face starts (states and transports)', () => {
  const manifest = { latentDim: 2 };
  const hair = (name: string, normal: number[], bias: number, extra: Record<string, unknown> = {}) => ({
    name, vector: normal, positives: 5, negatives: 5, norm: 1, scale: { add: 4, remove: 2 }, normal, bias, group: 'hair', ...extra,
  });
  const file = {
    format: 2, latentDim: 2, modelVersion: 'abc', states: ['Black_Hair', 'Blond_Hair', 'Wearing_Hat'], omitted: [],
    attributes: [
      hair('Black_Hair', [1, 0], 0),
      hair('Blond_Hair', [0, 1], -1, { from: [{ state: 'Black_Hair', vector: [-2, 3], scale: 1.5 }, { state: 'Wearing_Hat', vector: [1, 4], scale: 2 }] }),
      hair('Wearing_Hat', [-0.6, -0.8], 0.5),
      { name: 'Smiling', vector: [0.6, 0.8], positives: 5, negatives: 5, norm: 1, scale: { add: 1, remove: 1 }, normal: [0.6, 0.8] },
    ],
  };

  it("reads the face's state as the strongest probe margin", () => {
    const attrs = steerAttributes(parseAttributes(file, manifest));
    expect(faceState(attrs, file.states, [2, 0.5])).toBe('Black_Hair'); // margins 2, -0.5, -1.1
    expect(faceState(attrs, file.states, [0, 3])).toBe('Blond_Hair'); // 0, 2, -1.9
    expect(faceState(attrs, file.states, [-1, -1])).toBe('Wearing_Hat'); // -1, -2, 1.9
    expect(faceState(attrs, ['Black_Hair', 'Smiling'], [1, 1])).toBeNull(); // Smiling has no bias: not a state
  });

  it('adds along the transport from that state at its own scale; removing and other states use the direction', () => {
    const attrs = steerAttributes(parseAttributes(file, manifest));
    expect(Array.from(steerOffset(attrs, [{ name: 'Blond_Hair', weight: 1 }], 2, undefined, 'Black_Hair'))).toEqual([-3, 4.5]);
    expect(Array.from(steerOffset(attrs, [{ name: 'Blond_Hair', weight: 0.5 }], 2, undefined, 'Wearing_Hat'))).toEqual([1, 4]);
    expect(Array.from(steerOffset(attrs, [{ name: 'Blond_Hair', weight: 1 }], 2))).toEqual([0, 4]);
    expect(Array.from(steerOffset(attrs, [{ name: 'Blond_Hair', weight: -1 }], 2, undefined, 'Black_Hair'))).toEqual([0, -2]);
    expect(termMove(attrs.get('Black_Hair')!, 1, 'Wearing_Hat')).toEqual({ vector: [1, 0], scale: 4, from: null, kind: 'direction' });
    // Keeping Smiling projects its normal out of the transport too.
    const kept = steerOffset(attrs, [{ name: 'Blond_Hair', weight: 1 }], 2, ['Smiling'], 'Black_Hair');
    expect(dot(kept, [0.6, 0.8])).toBeCloseTo(0, 5);
  });

  it('refuses a transport from an unknown state, and states without probes', () => {
    const { states: _s, ...noStates } = file;
    expect(() => parseAttributes(noStates, manifest)).toThrow(/adds "from" a state, but the file lists no "states"/);
    expect(() => parseAttributes({ ...file, states: ['Black_Hair', 'Smiling'] }, manifest)).toThrow(/state Smiling needs a probe "normal" and "bias"/);
    expect(() => parseAttributes({ ...file, states: ['Black_Hair', 'Red_Hair'] }, manifest)).toThrow(/"states" names "Red_Hair", which is not one of its attributes/);
    expect(() => parseAttributes({ ...file, states: ['Black_Hair', 'Blond_Hair'] }, manifest)).toThrow(/adds from "Wearing_Hat", which is not another of the "states"/);
    const bad = structuredClone(file);
    (bad.attributes[1] as unknown as { from: unknown[] }).from = [{ state: 'Black_Hair', vector: [1], scale: 1 }];
    expect(() => parseAttributes(bad, manifest)).toThrow(/from\[0\]: "vector" must be 2 finite numbers/);
    (bad.attributes[1] as unknown as { from: unknown[] }).from = [{ state: 'Black_Hair', vector: [1, 1], scale: 0 }];
    expect(() => parseAttributes(bad, manifest)).toThrow(/"scale" must be positive/);
  });

  it('versions the transports, and leaves the version of a file without them as it was', () => {
    const a = parseAttributes(file, manifest);
    const moved = structuredClone(file);
    (moved.attributes[1] as unknown as { from: { scale: number }[] }).from[0]!.scale = 1.75;
    expect(attributesVersion(parseAttributes(moved, manifest))).not.toBe(attributesVersion(a));
    const plain = { attributes: [{ name: 'Smiling', vector: [1, 0], positives: 5, negatives: 5, norm: 1 }] };
    // The hash of [name, vector, scale, normal] as before transports existed.
    expect(attributesVersion(plain)).toBe(attributesVersion({ attributes: [{ ...plain.attributes[0]!, bias: 3 }] }));
  });
});

describe('adding by a face-dependent transport', () => {
  const manifest = { latentDim: 2 };
  // T(z) = z·[[0, 0], [0, 1]] + [0, 3]: the first coordinate goes to 0, the second gains 3.
  const transport = { matrix: [0, 0, 0, 1], offset: [0, 3], scale: 1.5 };
  const file = {
    format: 2, latentDim: 2, modelVersion: 'abc', omitted: [],
    attributes: [
      { name: 'Bald', vector: [0, 1], positives: 5, negatives: 5, norm: 1, scale: { add: 4, remove: 2 }, normal: [0, 1], transport },
      { name: 'Smiling', vector: [1, 0], positives: 5, negatives: 5, norm: 1, scale: { add: 1, remove: 1 }, normal: [1, 0] },
    ],
  };

  it('moves each face by its own z·matrix + offset − z at the transport scale; removing and a call without the face use the direction', () => {
    const attrs = steerAttributes(parseAttributes(file, manifest));
    expect(Array.from(transportMove(transport, [2, 1]))).toEqual([-2, 3]);
    expect(Array.from(transportMove(transport, [-2, 1]))).toEqual([2, 3]);
    expect(Array.from(steerOffset(attrs, [{ name: 'Bald', weight: 1 }], 2, undefined, null, [2, 1]))).toEqual([-3, 4.5]);
    expect(Array.from(steerOffset(attrs, [{ name: 'Bald', weight: 0.5 }], 2, undefined, null, [-2, 1]))).toEqual([1.5, 2.25]);
    expect(termMove(attrs.get('Bald')!, 1, null, [2, 1])).toMatchObject({ scale: 1.5, kind: 'transport' });
    expect(Array.from(steerOffset(attrs, [{ name: 'Bald', weight: -1 }], 2, undefined, null, [2, 1]))).toEqual([0, -2]);
    expect(Array.from(steerOffset(attrs, [{ name: 'Bald', weight: 1 }], 2))).toEqual([0, 4]);
    // Keeping Smiling (normal e0) projects it out of the face's move.
    expect(Array.from(steerOffset(attrs, [{ name: 'Bald', weight: 1 }], 2, ['Smiling'], null, [2, 1]))).toEqual([0, 4.5]);
    expect(() => transportMove(transport, [1, 2, 3])).toThrow(/a transport for 2 dimensions cannot move a 3-D face/);
  });

  it('refuses a malformed transport, and versions it', () => {
    const bad = structuredClone(file);
    (bad.attributes[0] as { transport: unknown }).transport = { ...transport, matrix: [1, 0, 0] };
    expect(() => parseAttributes(bad, manifest)).toThrow(/transport: "matrix" must be 2×2 = 4 finite numbers \(row-major\)/);
    (bad.attributes[0] as { transport: unknown }).transport = { ...transport, offset: [0, Infinity] };
    expect(() => parseAttributes(bad, manifest)).toThrow(/"offset" must be 2 finite numbers/);
    (bad.attributes[0] as { transport: unknown }).transport = { ...transport, scale: -1 };
    expect(() => parseAttributes(bad, manifest)).toThrow(/transport: "scale" must be positive/);
    (bad.attributes[0] as { transport: unknown }).transport = [1, 2];
    expect(() => parseAttributes(bad, manifest)).toThrow(/transport: must be an object \{ matrix, offset, scale \} or \{ net, scale \}/);
    const { transport: _t, ...plain } = file.attributes[0]!;
    const without = { ...file, attributes: [plain, file.attributes[1]!] };
    expect(attributesVersion(parseAttributes(file, manifest))).not.toBe(attributesVersion(parseAttributes(without, manifest)));
  });
});
