/**
 * Range inputs whose neutral value is 0 in the middle (the attribute
 * sliders): the fill runs from 0 to the value, not from the left end, so a
 * slider at 0 looks unset. The page's CSS draws the fill from two custom
 * properties, --fill-from and --fill-to (fractions of the track), which this
 * keeps in step with the value.
 */

/** The filled stretch of a range [min, max] between 0 (clamped into the range) and `value`, as fractions of the track. */
export function centredFill(value: number, min: number, max: number): { from: number; to: number } {
  if (!(max > min) || !Number.isFinite(value)) return { from: 0, to: 0 };
  const at = (v: number) => (Math.max(min, Math.min(max, v)) - min) / (max - min);
  const zero = at(0);
  const here = at(value);
  return { from: Math.min(zero, here), to: Math.max(zero, here) };
}

/** Sets the fill of a centred range input from its current value. */
export function paintCentredRange(input: HTMLInputElement): void {
  const { from, to } = centredFill(Number(input.value), Number(input.min), Number(input.max));
  input.style.setProperty('--fill-from', String(from));
  input.style.setProperty('--fill-to', String(to));
}
