/**
 * IEEE 754 half-precision conversion. Used for compact share links and for
 * optional float16 weight shards; both sides must round identically, so the
 * site, the functions and the training code all import this one module.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Rounds a float32 to the nearest float16 (ties to even) and returns its bits. */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> signed zero
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // Carry into the exponent is correct here: it rounds up to the next binade.
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
  return h;
}

/** The float value of 16 half-precision bits. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Rounds each value to the nearest representable float16. */
export function roundToHalf(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = fromHalfBits(toHalfBits(values[i]!));
  return out;
}

/** Packs values as little-endian float16 bytes. */
export function encodeHalf(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const h = toHalfBits(values[i]!);
    bytes[2 * i] = h & 0xff;
    bytes[2 * i + 1] = h >>> 8;
  }
  return bytes;
}

/** Unpacks little-endian float16 bytes. */
export function decodeHalf(bytes: Uint8Array): Float32Array {
  if (bytes.length % 2 !== 0) throw new Error(`float16 data must have an even byte count, got ${bytes.length}`);
  const out = new Float32Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = fromHalfBits(bytes[2 * i]! | (bytes[2 * i + 1]! << 8));
  return out;
}
