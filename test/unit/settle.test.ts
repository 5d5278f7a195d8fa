/**
 * lib/settle.ts and its Node form (training/settle-node.ts) on real tfjs
 * networks: a tiny decoder 2 -> 4x4 grey and an encoder back to [mean, log-variance].
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyStep, checkStep, MAX_RELAX, MAX_SETTLE_TRIPS, parseSettleStep, settle, settleStepToJson } from '../../lib/settle.ts';
import { settleWith } from '../../training/settle-node.ts';

let decoder: tf.LayersModel;
let encoder: tf.LayersModel;

function tinyNets(): { decoder: tf.LayersModel; encoder: tf.LayersModel } {
  const dec = tf.sequential();
  dec.add(tf.layers.dense({ inputShape: [2], units: 16, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  dec.add(tf.layers.reshape({ targetShape: [4, 4, 1] }));
  const x = tf.input({ shape: [4, 4, 1] });
  const flat = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const mean = tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(flat) as tf.SymbolicTensor;
  const logVar = tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(flat) as tf.SymbolicTensor;
  return { decoder: dec, encoder: tf.model({ inputs: x, outputs: [mean, logVar] }) };
}

/** One round trip by hand: the encoder's first output of the decoder's image. */
function byHand(z: Float32Array): Float32Array {
  return tf.tidy(() => (encoder.predict(decoder.predict(tf.tensor2d(z, [z.length / 2, 2])) as tf.Tensor) as tf.Tensor[])[0]!.dataSync() as Float32Array);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  ({ decoder, encoder } = tinyNets());
});

describe('settling sampled points by encode–decode round trips', () => {
  const start = Float32Array.from([0.5, -1, 2, 0.25, -0.75, 0]);

  it('runs exactly the asked round trips z <- E(D(z)), each point on its own, and leaves the input alone', async () => {
    const copy = start.slice();
    const seen: number[] = [];
    const out = await settleWith(encoder, decoder, start, 3, 2);
    const viaLib = await settle(start, 3, { decode: (z) => tf.tidy(() => (decoder.predict(tf.tensor2d(z, [z.length / 2, 2])) as tf.Tensor).dataSync() as Float32Array), encode: (im) => tf.tidy(() => (encoder.predict(tf.tensor4d(im, [im.length / 16, 4, 4, 1])) as tf.Tensor[])[0]!.dataSync() as Float32Array) }, { onTrip: (k) => seen.push(k) });
    let expected: Float32Array = start;
    for (let k = 0; k < 3; k++) expected = byHand(expected);
    Array.from(out).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    Array.from(viaLib).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    expect(seen).toEqual([1, 2, 3]);
    expect(Array.from(start)).toEqual(Array.from(copy));
    // One point settled alone lands where it lands in a batch.
    const alone = await settleWith(encoder, decoder, start.slice(2, 4), 3, 2);
    Array.from(alone).forEach((v, i) => expect(v).toBeCloseTo(expected[2 + i]!, 5));
  });

  it('zero round trips give the points back, as a copy', async () => {
    const out = await settleWith(encoder, decoder, start, 0, 2);
    expect(out).not.toBe(start);
    expect(Array.from(out)).toEqual(Array.from(start));
  });

  it('refuses a count that is not a whole number from 0 to the cap, an encoder of another size and values that are not finite', async () => {
    const nets = { decode: (z: Float32Array) => z, encode: (x: Float32Array) => x };
    for (const bad of [-1, 1.5, MAX_SETTLE_TRIPS + 1, NaN]) await expect(settle(start, bad, nets)).rejects.toThrow(`whole number from 0 to ${MAX_SETTLE_TRIPS}, got ${bad}`);
    await expect(settle(start, 1, { decode: (z) => z, encode: (x) => x.subarray(1) })).rejects.toThrow(/gave 5 numbers for 6 latent numbers; it does not belong to this decoder/);
    await expect(settle(start, 2, { decode: (z) => z, encode: (x) => x.map((v) => v / 0) })).rejects.toThrow(/round trip 1 gave values that are not finite/);
  });
});

describe('a corrected, over-relaxed round trip (the step the build ships)', () => {
  const start = Float32Array.from([0.5, -1, 2, 0.25, -0.75, 0]);
  // r·M + b with M = [[1.1, 0.2], [0, 0.9]] (row-major: z'_k = Σ_j r_j M_jk + b_k) and b = [0.05, -0.1].
  const correction = { matrix: Float32Array.from([1.1, 0.2, 0, 0.9]), offset: Float32Array.from([0.05, -0.1]) };

  it('moves each point by z + relax · (r·M + b − z), in Node and in the shared function alike', async () => {
    const out = await settleWith(encoder, decoder, start, 2, 2, { relax: 1.5, correction });
    let expected = Array.from(start);
    for (let k = 0; k < 2; k++) {
      const r = byHand(Float32Array.from(expected));
      expected = expected.map((z, i) => {
        const p = Math.floor(i / 2) * 2;
        const col = i % 2;
        const c = r[p]! * correction.matrix[col]! + r[p + 1]! * correction.matrix[2 + col]! + correction.offset[col]!;
        return z + 1.5 * (c - z);
      });
    }
    Array.from(out).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
  });

  it('with relax 1 and no correction is the plain round trip', async () => {
    const plain = await settleWith(encoder, decoder, start, 2, 2);
    const stepped = await settleWith(encoder, decoder, start, 2, 2, { relax: 1 });
    Array.from(stepped).forEach((v, i) => expect(v).toBeCloseTo(plain[i]!, 6));
  });

  it('applyStep by hand: relax 2 without a correction doubles the move', () => {
    const z = Float32Array.from([1, 2]);
    expect(Array.from(applyStep(z, Float32Array.from([2, 0]), { relax: 2 }, 2))).toEqual([3, -2]);
  });

  it('refuses a relaxation out of range and a correction of another size, and says which', async () => {
    const nets = { decode: (z: Float32Array) => z, encode: (x: Float32Array) => x.slice() };
    for (const relax of [0, -1, MAX_RELAX + 0.5, NaN]) await expect(settle(start, 1, nets, { step: { relax } })).rejects.toThrow(`above 0 and at most ${MAX_RELAX}, got ${relax}`);
    await expect(settle(start, 1, nets, { step: { relax: 1, correction: { matrix: new Float32Array(16), offset: new Float32Array(4) } } })).rejects.toThrow(/6 numbers are not whole points of the correction's 4 dimensions/);
    expect(() => checkStep({ relax: 1, correction: { matrix: new Float32Array(3), offset: new Float32Array(2) } }, 2)).toThrow(/must be a 2 × 2 matrix and 2 offsets, got 3 and 2 numbers/);
  });

  it('survives prior.json: written rounded to 6 digits, read back, and every bad field named', () => {
    const json = JSON.parse(JSON.stringify(settleStepToJson({ relax: 2, correction })));
    const back = parseSettleStep(json, 2);
    expect(back.relax).toBe(2);
    Array.from(back.correction!.matrix).forEach((v, i) => expect(v).toBeCloseTo(correction.matrix[i]!, 5));
    expect(parseSettleStep({ relax: 1.5 }, 2)).toEqual({ relax: 1.5 });
    expect(() => parseSettleStep([1], 2)).toThrow(/"settleStep" must be an object/);
    expect(() => parseSettleStep({ relax: '2' }, 2)).toThrow(/relaxation .* got NaN/);
    expect(() => parseSettleStep({ relax: 2, correction: { matrix: [1, 2, 3], offset: [0, 0] } }, 2)).toThrow(/"settleStep.correction.matrix" must be 4 finite numbers/);
    expect(() => parseSettleStep({ relax: 2, correction: { matrix: [1, 0, 0, 1], offset: [0, null] } }, 2)).toThrow(/"settleStep.correction.offset" must be 2 finite numbers/);
    expect(() => parseSettleStep({ relax: 2, correction: 5 }, 2)).toThrow(/"settleStep.correction" must be an object/);
  });
});
