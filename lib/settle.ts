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
 * `trips` round trips from `points` (flat, n × d); returns the settled points
 * and leaves the input as it was. `onTrip(k, points)` sees each intermediate
 * result (k = 1..trips). Zero trips returns a copy.
 */
export async function settle(points: Float32Array, trips: number, nets: RoundTripNets, onTrip?: (k: number, points: Float32Array) => void): Promise<Float32Array> {
  checkTrips(trips);
  let z: Float32Array = points.slice();
  for (let k = 1; k <= trips; k++) {
    const next = await nets.encode(await nets.decode(z));
    if (next.length !== z.length) throw new Error(`the encoder gave ${next.length} numbers for ${z.length} latent numbers; it does not belong to this decoder`);
    if (!next.every(Number.isFinite)) throw new Error(`round trip ${k} gave values that are not finite numbers`);
    z = next;
    onTrip?.(k, z);
  }
  return z;
}
