/**
 * Counterfactual pairs from a generated (avatar) face set: a face and the very
 * same avatar drawn with an attribute. Their codes give each face's exact move
 * for the attribute, E(x') − E(x): what npm run edits:counterfactual measures
 * the shipped adds against, and what training/edit-net.ts fits a network to.
 * Real photographs have no such pairs; only avatar sets can be asked.
 */
import type * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  attributeFileText, attributesOf, encodeJpeg, HAIR, HAIR_COLOURS, imageName, partitionFileText, rasterise, type AvatarTraits,
} from './data/avatars.ts';
import { loadCelebA } from './data/celeba.ts';
import type { ImageDataset } from './data/types.ts';
import { splitTraits } from './edits-by-look.ts';
import { encodeMeans } from './report.ts';

/**
 * The wavy style a face's hair becomes: one of about its length, so the pair
 * changes the texture and little else, and the move is a function of the face
 * (a style picked at random would make it a lottery no fit could learn). A
 * bald head or a hat grows medium curls in the face's own hair colour: adding
 * waves to a face without visible hair means giving it hair.
 */
export const WAVY_FOR: Readonly<Record<string, (typeof HAIR.wavy)[number]>> = {
  bob: 'curly', longButNotTooLong: 'curvy', miaWallace: 'bigHair', straight01: 'curvy', straight02: 'bigHair', straightAndStrand: 'curvy',
  shortFlat: 'shortWaved', shortRound: 'shortWaved', theCaesar: 'shortWaved', theCaesarAndSidePart: 'shortWaved', shavedSides: 'shortWaved',
  shortCurly: 'shortWaved', frizzle: 'shortWaved', shaggy: 'shortWaved', shaggyMullet: 'shortWaved',
  bun: 'curly', dreads: 'curly', dreads01: 'curly', dreads02: 'curly', fro: 'curly', froBand: 'curly',
};

/** The same avatar with the attribute, or null where the edit cannot show (a hair colour under a hat). `k` picks among the styles. */
export const COUNTERFACTUALS: Readonly<Record<string, (t: AvatarTraits, k: number) => AvatarTraits | null>> = {
  Narrow_Eyes: (t) => ({ ...t, narrowEyes: true, eyes: 'squint' }),
  Bald: (t) => ({ ...t, head: 'bald' }),
  Wavy_Hair: (t) => (t.head === 'hair' ? { ...t, hairTexture: 'wavy', top: WAVY_FOR[t.top] ?? 'curly' } : { ...t, head: 'hair', hairTexture: 'wavy', top: 'curly' }),
  Straight_Hair: (t, k) => (t.head === 'hair' ? { ...t, hairTexture: 'straight', top: HAIR.straight[k % HAIR.straight.length]! } : null),
  Brown_Hair: (t, k) => (t.head === 'hair' ? { ...t, hairColour: 'brown', hairHex: HAIR_COLOURS.brown[k % 3]! } : null),
  Blond_Hair: (t, k) => (t.head === 'hair' ? { ...t, hairColour: 'blond', hairHex: HAIR_COLOURS.blond[k % 3]! } : null),
  Smiling: (t) => ({ ...t, smiling: true, mouth: t.mouthOpen ? 'smile' : 'twinkle' }),
};

/** One face and its counterfactual: where it sits in its split, and the traits drawn with the attribute. */
export interface Pair {
  attribute: string;
  split: 'train' | 'test';
  position: number;
  traits: AvatarTraits;
}

/**
 * Up to `max` pairs per split: the split's faces in order (from `skip`) whose
 * counterfactual changes the labels (faces that already have the attribute
 * are passed over).
 */
export function plan(attribute: string, split: Pair['split'], traits: readonly AvatarTraits[], max: number, skip = 0): Pair[] {
  const flip = COUNTERFACTUALS[attribute];
  if (!flip) throw new Error(`no counterfactual for ${attribute}; one of ${Object.keys(COUNTERFACTUALS).join(', ')}`);
  const out: Pair[] = [];
  for (let position = skip; position < traits.length && out.length < max; position++) {
    const t = traits[position]!;
    const f = flip(t, position);
    if (f && attributesOf(f).some((v, i) => v !== attributesOf(t)[i])) out.push({ attribute, split, position, traits: f });
  }
  return out;
}

/** Draws the counterfactuals into `dir` as a CelebA folder (all test images; the first also stands as the one training image loadCelebA needs). */
export async function drawPairs(dir: string, pairs: readonly Pair[]): Promise<void> {
  mkdirSync(join(dir, 'img_align_celeba'), { recursive: true });
  const all = [...pairs.map((p) => p.traits), pairs[0]!.traits];
  for (const [k, t] of all.entries()) writeFileSync(join(dir, 'img_align_celeba', imageName(k)), await encodeJpeg(rasterise(t)));
  writeFileSync(join(dir, 'list_attr_celeba.txt'), attributeFileText(all.map(attributesOf)));
  writeFileSync(join(dir, 'list_eval_partition.txt'), partitionFileText(all.map((_, k) => (k < pairs.length ? 2 : 0))));
}


/** A short hash of what the pairs draw: a cached folder is reused only for the very same counterfactuals. */
export function pairsKey(pairs: readonly Pair[]): string {
  return createHash('sha256').update(JSON.stringify(pairs.map((p) => [p.position, p.traits]))).digest('hex').slice(0, 8);
}

/** Training codes and their exact moves for one attribute: n rows of d each. */
export interface PairMoves {
  attribute: string;
  n: number;
  d: number;
  before: Float32Array;
  moves: Float32Array;
}

export interface PairSource {
  encoder: tf.LayersModel;
  /** The avatar set the model was trained on, loaded (its training split is encoded). */
  data: ImageDataset;
  dataDir: string;
  /** The seed the set was written with (npm run data:avatars --seed). */
  seed: number;
  size: [number, number];
  crop: number;
  cacheDir: string;
}

/**
 * Up to `max` pairs for `attribute` from the training faces after the first
 * `skip` (those calibrate the edits, so the fit never sees them): drawn into
 * the cache once, then encoded.
 */
export async function pairMoves(src: PairSource, attribute: string, max: number, skip: number): Promise<PairMoves> {
  const traits = await splitTraits(src.dataDir, src.seed, {}, '0');
  const pairs = plan(attribute, 'train', traits, max, skip);
  if (pairs.length < 2) throw new Error(`only ${pairs.length} training faces of ${src.dataDir} can be drawn with ${attribute}`);
  const out = join(src.cacheDir, 'counterfactuals', `${src.seed}-train-${attribute}-${skip}-${max}-${pairsKey(pairs)}`);
  if (!existsSync(join(out, 'list_eval_partition.txt'))) {
    console.log(`Drawing ${pairs.length} counterfactual avatars with ${attribute} into ${out}…`);
    await drawPairs(out, pairs);
  }
  const drawn = await loadCelebA(out, { size: src.size, cacheDir: src.cacheDir, crop: src.crop });
  const d = src.encoder.outputs[0]!.shape[1] as number;
  const after = encodeMeans(src.encoder, drawn.test, Int32Array.from(pairs.keys()));
  const before = encodeMeans(src.encoder, src.data.train, Int32Array.from(pairs.map((p) => p.position)));
  const moves = after.map((v, k) => v - before[k]!);
  return { attribute, n: pairs.length, d, before, moves };
}
