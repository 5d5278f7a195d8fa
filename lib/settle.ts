/**
 * Settling a sampled point onto the model's manifold: encode–decode round
 * trips z ← E(D(z)), where E gives the encoder's mean. A point drawn from the
 * learned prior often lands between the discrete looks the decoder draws
 * (a frame half drawn, a moustache fading in); the encoder reads the decoded
 * image as the look it is closest to, and the next decode draws that look
 * clearly. This is the Markov chain of a denoising autoencoder (Rezende et
 * al. 2014, Bengio et al. 2013), run for a few steps from the prior's sample.
 *
 * The same function runs in the decode worker, in the page and in Node
 * (`npm run sample -- --settle N`, `npm run prior`): the networks come in as
 * two functions on flat arrays, so no runtime's tfjs is imported here.
 */

/** The two networks, on flat float arrays: n points (n × d) in, n images out, and back. */
export interface RoundTripNets {
  decode(points: Float32Array): Promise<Float32Array> | Float32Array;
  /** The encoder's means (not samples) of n images. */
  encode(images: Float32Array): Promise<Float32Array> | Float32Array;
}

/** The most round trips a caller may ask for: each costs a decode and an encode per point. */
export const MAX_SETTLE_TRIPS = 32;

export function checkTrips(trips: number): void {
  if (!Number.isInteger(trips) || trips < 0 || trips > MAX_SETTLE_TRIPS) {
    throw new RangeError(`the number of round trips must be a whole number from 0 to ${MAX_SETTLE_TRIPS}, got ${trips}`);
  }
}

/**
 * How each round trip moves a point, measured by the build (training/
 * prior-settle.ts) and shipped with the prior:
 *   r = E(D(z)),  c = correction ? r·M + b : r,  z ← z + relax · (c − z).
 * The correction (M: d × d, row-major; b: d) is the affine map that best
 * sends the round trips of training codes back to the codes themselves, so
 * a round trip no longer drifts where real faces are (towards a smile, away
 * from glasses); `relax` > 1 over-relaxes, reaching a clear look in fewer
 * trips. No step (or relax 1 and no correction) is the plain z ← E(D(z)).
 */
export interface SettleStep {
  relax: number;
  correction?: { matrix: Float32Array; offset: Float32Array };
}

/** The largest over-relaxation accepted: past 2 the trips overshoot the looks they aim at. */
export const MAX_RELAX = 3;

export function checkStep(step: SettleStep, d: number): void {
  if (!(Number.isFinite(step.relax) && step.relax > 0 && step.relax <= MAX_RELAX)) throw new RangeError(`the relaxation of a round trip must be above 0 and at most ${MAX_RELAX}, got ${step.relax}`);
  const c = step.correction;
  if (!c) return;
  if (c.matrix.length !== d * d || c.offset.length !== d) throw new RangeError(`the round-trip correction must be a ${d} × ${d} matrix and ${d} offsets, got ${c.matrix.length} and ${c.offset.length} numbers`);
  if (!c.matrix.every(Number.isFinite) || !c.offset.every(Number.isFinite)) throw new RangeError('the round-trip correction holds values that are not finite numbers');
}

/** One step's move, in place on `next` (the round trips r of `z`, n × d). */
export function applyStep(z: Float32Array, next: Float32Array, step: SettleStep | undefined, d: number): Float32Array {
  if (!step) return next;
  const n = z.length / d;
  const c = step.correction;
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const r = next.subarray(i * d, (i + 1) * d);
    if (c) {
      row.set(c.offset);
      for (let j = 0; j < d; j++) {
        const rj = r[j]!;
        for (let k = 0; k < d; k++) row[k] = row[k]! + rj * c.matrix[j * d + k]!;
      }
    } else row.set(r);
    for (let k = 0; k < d; k++) r[k] = z[i * d + k]! + step.relax * (row[k]! - z[i * d + k]!);
  }
  return next;
}

export interface SettleOptions {
  /** How each trip moves the point (absent: plain round trips). */
  step?: SettleStep;
  /** Sees each intermediate result (k = 1..trips). */
  onTrip?: (k: number, points: Float32Array) => void;
}

/**
 * `trips` round trips from `points` (flat, n × d); returns the settled points
 * and leaves the input as it was. Zero trips returns a copy.
 */
export async function settle(points: Float32Array, trips: number, nets: RoundTripNets, options: SettleOptions = {}): Promise<Float32Array> {
  checkTrips(trips);
  const { step, onTrip } = options;
  let z: Float32Array = points.slice();
  const d = step?.correction?.offset.length ?? 0;
  if (step) checkStep(step, d || 1);
  if (d && points.length % d !== 0) throw new RangeError(`${points.length} numbers are not whole points of the correction's ${d} dimensions`);
  for (let k = 1; k <= trips; k++) {
    const next = await nets.encode(await nets.decode(z));
    if (next.length !== z.length) throw new Error(`the encoder gave ${next.length} numbers for ${z.length} latent numbers; it does not belong to this decoder`);
    if (!next.every(Number.isFinite)) throw new Error(`round trip ${k} gave values that are not finite numbers`);
    z = applyStep(z, next, step, d || 1);
    onTrip?.(k, z);
  }
  return z;
}

/** A step as prior.json holds it ("settleStep"): plain numbers, the matrix flat and row-major. */
export interface SettleStepJson {
  relax: number;
  correction?: { matrix: number[]; offset: number[] };
}

export function settleStepToJson(step: SettleStep): SettleStepJson {
  const round = (a: Float32Array) => Array.from(a, (x) => Number(x.toPrecision(6)));
  return { relax: step.relax, ...(step.correction ? { correction: { matrix: round(step.correction.matrix), offset: round(step.correction.offset) } } : {}) };
}

/** Reads prior.json's "settleStep" for a d-dimensional latent space; throws a RangeError that says what is wrong. */
export function parseSettleStep(json: unknown, d: number): SettleStep {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new RangeError('"settleStep" must be an object with "relax" and, optionally, "correction"');
  const o = json as { relax?: unknown; correction?: unknown };
  const numbers = (a: unknown, n: number, what: string): Float32Array => {
    if (!Array.isArray(a) || a.length !== n || !a.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new RangeError(`"settleStep.correction.${what}" must be ${n} finite numbers`);
    return Float32Array.from(a as number[]);
  };
  let correction: SettleStep['correction'];
  if (o.correction !== undefined) {
    const c = o.correction as { matrix?: unknown; offset?: unknown } | null;
    if (typeof c !== 'object' || c === null) throw new RangeError('"settleStep.correction" must be an object with "matrix" and "offset"');
    correction = { matrix: numbers(c.matrix, d * d, 'matrix'), offset: numbers(c.offset, d, 'offset') };
  }
  const step: SettleStep = { relax: typeof o.relax === 'number' ? o.relax : NaN, ...(correction ? { correction } : {}) };
  checkStep(step, d);
  return step;
}
