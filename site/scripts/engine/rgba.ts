/** Decoder output as pixels: the one conversion the worker, the page-thread decoder and the studios' exports share. */

/**
 * Writes decoder output in [0, 1] (one image, channels last, 1 or 3 channels)
 * into RGBA bytes: grey levels for one channel, colour for three. Out-of-range
 * values are clamped; the rounding is fixed so one point always gives the same bytes.
 */
export function toRgba(values: ArrayLike<number>, channels: 1 | 3, out: Uint8ClampedArray, offset = 0, count = out.length / 4): void {
  for (let p = 0; p < count; p++) {
    const o = p * 4;
    if (channels === 1) {
      const g = Math.round(clamp01(values[offset + p]!) * 255);
      out[o] = g;
      out[o + 1] = g;
      out[o + 2] = g;
    } else {
      const i = offset + p * 3;
      out[o] = Math.round(clamp01(values[i]!) * 255);
      out[o + 1] = Math.round(clamp01(values[i + 1]!) * 255);
      out[o + 2] = Math.round(clamp01(values[i + 2]!) * 255);
    }
    out[o + 3] = 255;
  }
}

function clamp01(v: number): number {
  return v > 1 ? 1 : v > 0 ? v : 0;
}
