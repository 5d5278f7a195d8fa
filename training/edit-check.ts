/**
 * The edit check, by the independent judge (training/judge.ts): push faces
 * along a latent offset, decode, and ask the judge whether the attribute is
 * now there (add) or gone (remove), and whether every attribute outside the
 * edited one's group kept the verdict it had on the unedited reconstruction.
 *
 * Each figure is given on all faces and on the faces where the edit can show
 * (SHOWS_ON: a hair colour on faces with hair, a squint on faces without
 * glasses), since a hat hides any hair colour the decoder might draw.
 */
import * as tf from '@tensorflow/tfjs';
import type { LabelledCodes } from './directions.ts';
import { judgeImages, type Judge } from './judge.ts';

/** Attributes that change together by construction: editing one may rightly flip another of its group. */
export const ATTRIBUTE_GROUPS: Readonly<Record<string, readonly string[]>> = {
  hair: ['Black_Hair', 'Blond_Hair', 'Brown_Hair', 'Gray_Hair', 'Bald', 'Wearing_Hat', 'Straight_Hair', 'Wavy_Hair', 'Receding_Hairline', 'Bangs'],
  'facial-hair': ['No_Beard', 'Mustache', 'Goatee', 'Sideburns', '5_o_Clock_Shadow'],
  mouth: ['Smiling', 'Mouth_Slightly_Open'],
};

export function groupOf(name: string): string | undefined {
  return Object.entries(ATTRIBUTE_GROUPS).find(([, g]) => g.includes(name))?.[0];
}

export function sameGroup(a: string, b: string): boolean {
  const g = groupOf(a);
  return a === b || (g !== undefined && g === groupOf(b));
}

const HAIR_SHOWS = { absent: ['Bald', 'Wearing_Hat'] };
/** Where an edit can show: the attributes a face must not have. */
export const SHOWS_ON: Readonly<Record<string, { absent: readonly string[]; says: string }>> = {
  Black_Hair: { ...HAIR_SHOWS, says: 'faces with hair (not bald, no hat)' },
  Blond_Hair: { ...HAIR_SHOWS, says: 'faces with hair (not bald, no hat)' },
  Brown_Hair: { ...HAIR_SHOWS, says: 'faces with hair (not bald, no hat)' },
  Gray_Hair: { ...HAIR_SHOWS, says: 'faces with hair (not bald, no hat)' },
  Straight_Hair: { ...HAIR_SHOWS, says: 'faces with hair (not bald, no hat)' },
  Wavy_Hair: { ...HAIR_SHOWS, says: 'faces with hair (not bald, no hat)' },
  Narrow_Eyes: { absent: ['Eyeglasses'], says: 'faces without glasses (sunglasses hide the eyes)' },
};

/** 1 where the edit of `name` can show on face i (all faces for attributes without a rule). */
export function showableMask(c: LabelledCodes, name: string): Uint8Array {
  const rule = SHOWS_ON[name];
  const cols = (rule?.absent ?? []).map((a) => c.names.indexOf(a)).filter((j) => j >= 0);
  return Uint8Array.from({ length: c.n }, (_, i) => (cols.every((j) => c.labels[i * c.names.length + j]! <= 0) ? 1 : 0));
}

/** The judge's probabilities [n × judge.attributes] on the decoded codes [n × d]. */
export function judgeCodes(decoder: tf.LayersModel, judge: Judge, z: Float32Array, d: number): Float32Array {
  const n = z.length / d;
  return judgeImages(judge, (idx) => {
    const block = z.subarray(idx[0]! * d, (idx[idx.length - 1]! + 1) * d);
    return tf.tidy(() => (decoder.predict(tf.tensor2d(block, [idx.length, d])) as tf.Tensor).dataSync() as Float32Array);
  }, n).probs;
}

/** Faces to edit: codes, labels and the judge's verdicts on their unedited reconstructions. */
export interface EditFaces {
  codes: LabelledCodes;
  base: Float32Array;
}

export function editFaces(decoder: tf.LayersModel, judge: Judge, codes: LabelledCodes): EditFaces {
  return { codes, base: judgeCodes(decoder, judge, codes.z, codes.d) };
}

/** Up to `max` faces for an edit: without the attribute to add it (sign +1), with it to remove it. */
export function facesFor(c: LabelledCodes, name: string, sign: 1 | -1, max: number, offset = 0): number[] {
  const j = c.names.indexOf(name);
  const out: number[] = [];
  for (let i = offset; i < c.n && out.length < max; i++) if ((c.labels[i * c.names.length + j]! > 0) === (sign < 0)) out.push(i);
  return out;
}

export interface EditOutcome {
  count: number;
  success: number;
  /** The same on the faces where the edit can show. */
  showableCount: number;
  showableSuccess: number;
  othersKept: number;
  othersTotal: number;
  /** Per judged attribute: faces whose verdict on it flipped. */
  flips: Record<string, number>;
}

/**
 * Adds sign × `offset(i)` to each chosen face, decodes, and counts the judge's
 * verdicts. `offset` may depend on the face (a conditional direction keeps
 * that face's own attributes).
 */
export function measureEdit(decoder: tf.LayersModel, judge: Judge, faces: EditFaces, name: string, sign: 1 | -1, chosen: readonly number[], offset: (i: number) => ArrayLike<number>): EditOutcome {
  const { codes: c, base } = faces;
  const { d } = c;
  const A = judge.attributes.length;
  const j = judge.attributes.indexOf(name);
  if (j < 0) throw new Error(`the judge does not read ${name}`);
  const z = new Float32Array(chosen.length * d);
  chosen.forEach((i, k) => {
    const off = offset(i);
    for (let q = 0; q < d; q++) z[k * d + q] = c.z[i * d + q]! + sign * off[q]!;
  });
  const probs = judgeCodes(decoder, judge, z, d);
  const shows = showableMask(c, name);
  const out: EditOutcome = { count: chosen.length, success: 0, showableCount: 0, showableSuccess: 0, othersKept: 0, othersTotal: 0, flips: {} };
  chosen.forEach((i, k) => {
    const ok = (probs[k * A + j]! > 0.5) === (sign > 0);
    out.success += ok ? 1 : 0;
    if (shows[i]) {
      out.showableCount++;
      out.showableSuccess += ok ? 1 : 0;
    }
    judge.attributes.forEach((other, o) => {
      if (sameGroup(other, name)) return;
      out.othersTotal++;
      if ((probs[k * A + o]! > 0.5) === (base[i * A + o]! > 0.5)) out.othersKept++;
      else out.flips[other] = (out.flips[other] ?? 0) + 1;
    });
  });
  return out;
}

/** The attributes an edit flipped most often: share of the edited faces, highest first. */
export function topFlips(outcomes: readonly EditOutcome[], limit = 3, min = 0.01): { name: string; share: number }[] {
  const faces = outcomes.reduce((n, o) => n + o.count, 0);
  const total = new Map<string, number>();
  for (const o of outcomes) for (const [name, f] of Object.entries(o.flips)) total.set(name, (total.get(name) ?? 0) + f);
  return [...total]
    .map(([name, f]) => ({ name, share: Math.round((1000 * f) / Math.max(1, faces)) / 1000 }))
    .filter((f) => f.share >= min)
    .sort((a, b) => b.share - a.share)
    .slice(0, limit);
}
