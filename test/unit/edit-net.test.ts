import { describe, expect, it } from 'vitest';
import { toBase64Url } from '../../lib/base64url.ts';
import { parseAttributes } from '../../lib/bundle.ts';
import { decodeNet, netMove, netParameterCount } from '../../lib/edit-net.ts';
import { encodeHalf } from '../../lib/float16.ts';
import { attributesVersion, steerAttributes, steerOffset, termMove } from '../../lib/steer.ts';
import { selectBackend } from '../../training/backend.ts';
import { fitEditNet } from '../../training/edit-net.ts';
import { attributeTransport } from '../../training/gaussian-transport.ts';
import { transportMove } from '../../lib/steer.ts';

// Widths 2, 2, 2: h = relu([z0, -z0]), out = (h0 + h1) e1 + [0.5, 0] = [0.5, |z0|].
const WEIGHTS = [1, -1, 0, 0, /* b1 */ 0, 0, /* W2 */ 0, 1, 0, 1, /* b2 */ 0.5, 0];
const stored = (w: number[] = WEIGHTS, sizes = [2, 2, 2]) => ({ sizes, float16: toBase64Url(encodeHalf(w)) });

describe('the edit network (lib/edit-net.ts)', () => {
  it('computes kernel then bias per layer, ReLU between layers and a linear output', () => {
    const net = decodeNet(stored(), 2);
    expect(netParameterCount([2, 2, 2])).toBe(12);
    expect(Array.from(netMove(net, [3, 7]))).toEqual([0.5, 3]);
    expect(Array.from(netMove(net, [-2, 7]))).toEqual([0.5, 2]);
    // A negative output survives: only hidden layers are rectified.
    expect(Array.from(netMove(decodeNet(stored(WEIGHTS.map((w, i) => (i === 10 ? -0.5 : w))), 2), [0, 0]))).toEqual([-0.5, 0]);
    expect(() => netMove(net, [1, 2, 3])).toThrow(/a network for 2 dimensions cannot move a 3-D face/);
  });

  it('refuses widths and weights that do not fit', () => {
    expect(() => decodeNet(stored(WEIGHTS, [2, 2, 3]), 2)).toThrow(/must start and end with the latent size 2, got \[2,2,3\]/);
    expect(() => decodeNet(stored(WEIGHTS, [2]), 2)).toThrow(/at least two layer widths/);
    expect(() => decodeNet(stored(WEIGHTS, [2, 1.5, 2]), 2)).toThrow(/whole numbers from 1 to 4096/);
    expect(() => decodeNet(stored(WEIGHTS.slice(1)), 2)).toThrow(/holds 11 weights; widths \[2,2,2\] need 12/);
    expect(() => decodeNet({ sizes: [2, 2, 2], float16: 'not base64!' }, 2)).toThrow(/not base64url/);
    expect(() => decodeNet(stored(WEIGHTS.map((w, i) => (i === 0 ? Infinity : w))), 2)).toThrow(/not finite/);
  });
});

describe('adding by a network in an attributes file', () => {
  const manifest = { latentDim: 2 };
  const file = {
    format: 2, latentDim: 2, modelVersion: 'abc', omitted: [],
    attributes: [
      { name: 'Narrow_Eyes', vector: [0, 1], positives: 5, negatives: 5, norm: 1, scale: { add: 4, remove: 2 }, normal: [0, 1], transport: { net: { ...stored(), pairs: 12 }, scale: 2 } },
      { name: 'Smiling', vector: [1, 0], positives: 5, negatives: 5, norm: 1, scale: { add: 1, remove: 1 }, normal: [1, 0] },
    ],
  };

  it('moves each face by scale × net(z); removing and a call without the face use the direction', () => {
    const attrs = steerAttributes(parseAttributes(file, manifest));
    expect(termMove(attrs.get('Narrow_Eyes')!, 1, null, [3, 0])).toMatchObject({ scale: 2, kind: 'transport' });
    expect(Array.from(steerOffset(attrs, [{ name: 'Narrow_Eyes', weight: 1 }], 2, undefined, null, [3, 0]))).toEqual([1, 6]);
    expect(Array.from(steerOffset(attrs, [{ name: 'Narrow_Eyes', weight: 0.5 }], 2, undefined, null, [-1, 0]))).toEqual([0.5, 1]);
    expect(Array.from(steerOffset(attrs, [{ name: 'Narrow_Eyes', weight: -1 }], 2, undefined, null, [3, 0]))).toEqual([0, -2]);
    expect(Array.from(steerOffset(attrs, [{ name: 'Narrow_Eyes', weight: 1 }], 2))).toEqual([0, 4]);
    // Keeping Smiling (normal e0) projects it out of the face's move.
    expect(Array.from(steerOffset(attrs, [{ name: 'Narrow_Eyes', weight: 1 }], 2, ['Smiling'], null, [3, 0]))).toEqual([0, 6]);
  });

  it('refuses a malformed network, and versions it', () => {
    const bad = structuredClone(file);
    const set = (t: unknown) => { (bad.attributes[0] as { transport: unknown }).transport = t; };
    set({ net: { ...stored(WEIGHTS, [2, 3, 2]), pairs: 12 }, scale: 2 });
    expect(() => parseAttributes(bad, manifest)).toThrow(/attributes\[0\] transport net.*holds 12 weights; widths \[2,3,2\] need 17/);
    set({ net: { ...stored(), pairs: 0 }, scale: 2 });
    expect(() => parseAttributes(bad, manifest)).toThrow(/"net.pairs" must be a positive whole number/);
    set({ net: { sizes: [2, 2, 2] }, scale: 2 });
    expect(() => parseAttributes(bad, manifest)).toThrow(/"net.float16" must be a base64url string/);
    set({ net: { ...stored(), pairs: 12 }, scale: 0 });
    expect(() => parseAttributes(bad, manifest)).toThrow(/"scale" must be positive/);
    set({ net: { ...stored(WEIGHTS.map((w) => w * 2)), pairs: 12 }, scale: 2 });
    expect(attributesVersion(parseAttributes(bad, manifest))).not.toBe(attributesVersion(parseAttributes(file, manifest)));
  });
});

describe('fitting the network to counterfactual pairs (real tfjs)', () => {
  it('learns a move that depends on the face non-linearly, which the best affine map cannot', async () => {
    await selectBackend('wasm', 2);
    // Each face needs 6|z0| - 3 along e1 to gain the attribute: no linear function of z predicts it (it is even in z0).
    const d = 4;
    const n = 3000;
    let s = 12345;
    const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const before = Float32Array.from({ length: n * d }, rand);
    const moves = new Float32Array(n * d);
    for (let i = 0; i < n; i++) moves[i * d + 1] = 6 * Math.abs(before[i * d]!) - 3;
    const fitted = await fitEditNet({ attribute: 'Test', n, d, before, moves }, { hidden: 32, epochs: 100, learningRate: 3e-3 });
    expect(fitted.file.sizes).toEqual([4, 32, 4]);
    expect(fitted.validationR2).toBeGreaterThan(0.9);
    const at = (z0: number) => netMove(fitted.net, [z0, 0, 0, 0])[1]!;
    for (const z0 of [-0.9, 0, 0.9]) expect(Math.abs(at(z0) - (6 * Math.abs(z0) - 3))).toBeLessThan(0.6);
    // The Gaussian transport between the faces without (all of them) and with (all moved) is affine: it cannot be right at -0.9, 0 and 0.9 at once.
    const labels = Int8Array.from({ length: 2 * n }, (_, i) => (i < n ? -1 : 1));
    const z = new Float32Array(2 * n * d);
    z.set(before);
    for (let k = 0; k < n * d; k++) z[n * d + k] = before[k]! + moves[k]!;
    const affine = attributeTransport({ z, d, n: 2 * n, labels, names: ['Test'] }, 'Test');
    const off = [-0.9, 0, 0.9].map((z0) => Math.abs(transportMove(affine, [z0, 0, 0, 0])[1]! - (6 * Math.abs(z0) - 3)));
    expect(Math.max(...off)).toBeGreaterThan(1.5);
  }, 120_000);
});
