/** Attribute vectors: how they are computed from encoder means, and how several are mixed. */
import { ATTRIBUTE_NAME_PATTERN } from './bundle.ts';

export const MAX_MIX_TERMS = 40;
/**
 * How far an attribute weight reaches either side of zero, in one place for
 * the studio's sliders, share links and the mix API. Weights are slider units:
 * ±1 is each attribute's calibrated working point (clearly added / clearly
 * removed, lib/steer.ts), so ±2 leaves room past it; further out the faces
 * leave the region the decoder learned, so no caller gets more.
 */
export const MAX_ABS_WEIGHT = 2;

/**
 * mean(z | attribute) - mean(z | not attribute), from encoder means `z`
 * (n rows of d numbers, flat) and labels of +1 / -1 (anything > 0 counts as present).
 */
export function attributeVector(z: ArrayLike<number>, d: number, labels: ArrayLike<number>): { vector: Float64Array; positives: number; negatives: number } {
  const n = labels.length;
  if (z.length !== n * d) throw new Error(`expected ${n} x ${d} latent values, got ${z.length}`);
  const pos = new Float64Array(d);
  const neg = new Float64Array(d);
  let positives = 0;
  let negatives = 0;
  for (let i = 0; i < n; i++) {
    const target = labels[i]! > 0 ? pos : neg;
    if (labels[i]! > 0) positives++;
    else negatives++;
    for (let j = 0; j < d; j++) target[j]! += z[i * d + j]!;
  }
  const vector = new Float64Array(d);
  for (let j = 0; j < d; j++) vector[j] = (positives ? pos[j]! / positives : 0) - (negatives ? neg[j]! / negatives : 0);
  return { vector, positives, negatives };
}

export function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

export interface MixTerm {
  name: string;
  weight: number;
}

/** Weighted sum of attribute vectors. Unknown names throw; callers validate first. */
export function mixVectors(vectors: ReadonlyMap<string, ArrayLike<number>>, terms: readonly MixTerm[], d: number): Float32Array {
  const out = new Float64Array(d);
  for (const { name, weight } of terms) {
    const v = vectors.get(name);
    if (!v) throw new Error(`unknown attribute ${name}`);
    if (v.length !== d) throw new Error(`attribute ${name} has ${v.length} dimensions, expected ${d}`);
    for (let j = 0; j < d; j++) out[j]! += weight * v[j]!;
  }
  return Float32Array.from(out);
}

export type MixParse = { ok: true; terms: MixTerm[] } | { ok: false; error: string; status: 400 | 404 };

/**
 * Validates mix weights given as name/value pairs (from a query string):
 * known names only, each once, finite numbers of sane size, not too many.
 */
export function parseMixTerms(pairs: Iterable<[string, string]>, known: ReadonlySet<string>): MixParse {
  const terms: MixTerm[] = [];
  const seen = new Set<string>();
  for (const [name, raw] of pairs) {
    if (terms.length >= MAX_MIX_TERMS) return { ok: false, status: 400, error: `too many attributes in one mix (at most ${MAX_MIX_TERMS})` };
    const shown = JSON.stringify(name.slice(0, 40));
    if (!ATTRIBUTE_NAME_PATTERN.test(name)) return { ok: false, status: 400, error: `${shown} is not a valid attribute name` };
    if (seen.has(name)) return { ok: false, status: 400, error: `attribute ${name} is given more than once` };
    seen.add(name);
    if (!known.has(name)) return { ok: false, status: 404, error: `unknown attribute ${name}` };
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(raw)) return { ok: false, status: 400, error: `weight of ${name} must be a number, got ${JSON.stringify(raw.slice(0, 40))}` };
    const weight = Number(raw);
    if (!Number.isFinite(weight) || Math.abs(weight) > MAX_ABS_WEIGHT) return { ok: false, status: 400, error: `weight of ${name} must be a finite number within ±${MAX_ABS_WEIGHT}, the range of the studio's sliders` };
    terms.push({ name, weight });
  }
  if (terms.length === 0) return { ok: false, status: 400, error: 'give at least one attribute weight, e.g. ?Smiling=0.8' };
  return { ok: true, terms };
}

/**
 * The attributes the edit sheet (attribute-edits.png) shows, in its column
 * order after the unedited reconstruction, where the model has them. The
 * sheet is drawn by training/attributes-sheet.ts (training/faces.ts for bundles without a judge); the model card labels its columns
 * with the same list.
 */
export const EDIT_SHEET_ATTRIBUTES: readonly string[] = ['Smiling', 'Eyeglasses', 'Wearing_Hat', 'Blond_Hair', 'Gray_Hair', 'Mustache', 'Bald'];

/** The sheet's columns, left to right, for a model with these attributes: the reconstruction, then each edit. */
export function editSheetColumns(modelAttributes: readonly string[]): { name: string; edit: boolean }[] {
  const have = new Set(modelAttributes);
  return [{ name: 'reconstruction', edit: false }, ...EDIT_SHEET_ATTRIBUTES.filter((n) => have.has(n)).map((name) => ({ name, edit: true }))];
}

/**
 * One cell of the edit table: the share of edited faces as a percentage, or
 * "—" with the count when there were no faces to edit (a share of nothing).
 */
export function editShareText(share: number | null | undefined, faces: number, digits = 0): string {
  if (!(faces > 0) || typeof share !== 'number' || !Number.isFinite(share)) return `— (${faces > 0 ? faces : 0} face${faces === 1 ? '' : 's'})`;
  return `${(100 * share).toFixed(digits)}%`;
}
