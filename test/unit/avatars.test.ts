import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AVATAR_HEIGHT, AVATAR_WIDTH, attributesOf, beardColoursFor, contrastRatio, drawTraits, rasterise, TRAIT_RATES, writeAvatarSet, type AvatarTraits,
} from '../../training/data/avatars.ts';
import { CELEBA_ATTRIBUTES, loadCelebA } from '../../training/data/celeba.ts';

const tmp = mkdtempSync(join(tmpdir(), 'avatars-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const attr = (a: Int8Array, name: (typeof CELEBA_ATTRIBUTES)[number]): number => a[CELEBA_ATTRIBUTES.indexOf(name)]!;

interface Box { top: number; bottom: number; left: number; right: number }
const EYES: Box = { top: 92, bottom: 130, left: 40, right: 138 };
const MOUTH: Box = { top: 140, bottom: 170, left: 70, right: 108 };
const TOP: Box = { top: 0, bottom: 55, left: 20, right: 158 };
const CLOTHES: Box = { top: 200, bottom: AVATAR_HEIGHT, left: 0, right: AVATAR_WIDTH };

/** Mean absolute RGB difference of two renders inside a box. */
function diffIn(a: Buffer, b: Buffer, box: Box): number {
  let sum = 0;
  let n = 0;
  for (let y = box.top; y < box.bottom; y++) {
    for (let x = box.left; x < box.right; x++) {
      const i = (y * AVATAR_WIDTH + x) * 4;
      for (let c = 0; c < 3; c++) sum += Math.abs(a[i + c]! - b[i + c]!);
      n += 3;
    }
  }
  return sum / n;
}

/** Mean luminance of the pixels that differ between two renders, in `img`. */
function lumaWhereDifferent(img: Buffer, other: Buffer): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < img.length; i += 4) {
    if (Math.abs(img[i]! - other[i]!) + Math.abs(img[i + 1]! - other[i + 1]!) + Math.abs(img[i + 2]! - other[i + 2]!) > 30) {
      sum += 0.299 * img[i]! + 0.587 * img[i + 1]! + 0.114 * img[i + 2]!;
      n++;
    }
  }
  return n ? sum / n : NaN;
}

/** A plain starting face: hair, no glasses, no facial hair, closed neutral mouth. */
function plain(): AvatarTraits {
  return {
    ...drawTraits(7, 0),
    smiling: false, mouthOpen: false, mouth: 'serious', narrowEyes: false, eyes: 'default', eyeglasses: false,
    facialHair: 'none', head: 'hair', top: 'shortFlat', hairTexture: 'other', hairColour: 'brown', hairHex: '724133',
    paleSkin: false, skinHex: 'd08b5b',
  };
}

describe('forced attributes change the pixels where they should', () => {
  const base = plain();
  const before = rasterise(base);

  it('renders at CelebA size', () => {
    expect(before.length).toBe(AVATAR_WIDTH * AVATAR_HEIGHT * 4);
  });

  it('glasses change the eye region and nothing below the face', () => {
    const t = { ...base, eyeglasses: true, glasses: 'round', glassesColour: '262e33' };
    const after = rasterise(t);
    expect(diffIn(before, after, EYES)).toBeGreaterThan(8);
    expect(diffIn(before, after, MOUTH)).toBe(0);
    expect(diffIn(before, after, CLOTHES)).toBe(0);
    expect(attr(attributesOf(t), 'Eyeglasses')).toBe(1);
    expect(attr(attributesOf(base), 'Eyeglasses')).toBe(-1);
  });

  it('a hat changes the top of the head, not the mouth, and hides the hair labels', () => {
    const t: AvatarTraits = { ...base, head: 'hat', top: 'winterHat03', hatColour: 'ff5c5c' };
    const after = rasterise(t);
    expect(diffIn(before, after, TOP)).toBeGreaterThan(20);
    expect(diffIn(before, after, MOUTH)).toBe(0);
    const a = attributesOf(t);
    expect(attr(a, 'Wearing_Hat')).toBe(1);
    for (const hidden of ['Brown_Hair', 'Black_Hair', 'Blond_Hair', 'Gray_Hair', 'Bald'] as const) expect(attr(a, hidden)).toBe(-1);
    expect(attr(attributesOf(base), 'Brown_Hair')).toBe(1);
  });

  it('hair colour changes only the hair, and blond hair is lighter than black', () => {
    const black = rasterise({ ...base, hairColour: 'black', hairHex: '2c1b18' });
    const blond = rasterise({ ...base, hairColour: 'blond', hairHex: 'd6b370' });
    expect(diffIn(black, blond, TOP)).toBeGreaterThan(20);
    expect(diffIn(black, blond, MOUTH)).toBe(0);
    expect(diffIn(black, blond, EYES)).toBeLessThan(diffIn(black, blond, TOP) / 4);
    expect(lumaWhereDifferent(blond, black)).toBeGreaterThan(lumaWhereDifferent(black, blond) + 80);
  });

  it('a smile changes the mouth region, not the eyes', () => {
    const t = { ...base, smiling: true, mouth: 'twinkle' };
    const after = rasterise(t);
    expect(diffIn(before, after, MOUTH)).toBeGreaterThan(2);
    expect(diffIn(before, after, EYES)).toBe(0);
    expect(attr(attributesOf(t), 'Smiling')).toBe(1);
  });

  it('a beard changes the mouth region, in its own colour, and clears No_Beard', () => {
    const t: AvatarTraits = { ...base, facialHair: 'beard', facialHairStyle: 'beardMedium', facialHairHex: 'e8e1e1' };
    const grey = rasterise(t);
    expect(diffIn(before, grey, MOUTH)).toBeGreaterThan(10);
    expect(diffIn(before, grey, TOP)).toBe(0); // the head hair keeps its colour
    const black = rasterise({ ...t, facialHairHex: '2c1b18' });
    expect(diffIn(grey, black, MOUTH)).toBeGreaterThan(10);
    expect(lumaWhereDifferent(grey, black)).toBeGreaterThan(lumaWhereDifferent(black, grey) + 80);
    expect(attr(attributesOf(t), 'No_Beard')).toBe(-1);
    expect(attr(attributesOf(t), 'Mustache')).toBe(-1);
  });

  it('no head top means bald, with no hair colour claimed', () => {
    const t: AvatarTraits = { ...base, head: 'bald' };
    const after = rasterise(t);
    expect(diffIn(before, after, TOP)).toBeGreaterThan(10);
    const a = attributesOf(t);
    expect(attr(a, 'Bald')).toBe(1);
    expect(attr(a, 'Brown_Hair')).toBe(-1);
    expect(attr(a, 'Straight_Hair')).toBe(-1);
  });
});

describe('facial hair and frame colours', () => {
  const N = 2000;
  const draw = (look: Parameters<typeof drawTraits>[2]) => Array.from({ length: N }, (_, i) => drawTraits(5, i, look));
  const dark = draw({});
  const contrast = draw({ facialHairColour: 'contrast', frameColours: 'all' });
  const hair = draw({ facialHairColour: 'hair', frameColours: 'all' });
  const BLACK_AND_BROWN = ['2c1b18', '1c1412', '231f20', '4a312c', '724133', '5e3b2a'];
  const without = (t: AvatarTraits) => ({ ...t, facialHairHex: '', glassesColour: '' });

  it("'dark' (the default) draws a black or brown beard that shows on the skin, apart from the hair colour", () => {
    for (const t of dark) {
      expect(BLACK_AND_BROWN).toContain(t.facialHairHex);
      expect(contrastRatio(t.facialHairHex, t.skinHex)).toBeGreaterThanOrEqual(1.8);
    }
    expect(dark.filter((t) => t.facialHairHex !== t.hairHex).length / N).toBeGreaterThan(0.6);
    // Every skin tone has a choice of several colours, the darkest the three blacks.
    for (const skin of new Set(dark.map((t) => t.skinHex))) expect(beardColoursFor(skin).length).toBeGreaterThanOrEqual(3);
    expect(beardColoursFor('614335').sort()).toEqual(['1c1412', '231f20', '2c1b18']);
    expect(contrastRatio('000000', 'ffffff')).toBeCloseTo(21, 5);
  });

  it("'contrast' (faces-v2's data) draws any hair colour that stands out from the skin", () => {
    for (const t of contrast) expect(contrastRatio(t.facialHairHex, t.skinHex)).toBeGreaterThanOrEqual(3);
    for (const skin of new Set(contrast.map((t) => t.skinHex))) expect(beardColoursFor(skin, 'contrast').length).toBeGreaterThanOrEqual(3);
    // On the darkest skin only grey and blond stand out: what 'dark' replaced.
    expect(new Set(contrast.filter((t) => t.skinHex === '614335').map((t) => t.facialHairHex)).size).toBeGreaterThan(3);
    expect(contrast.some((t) => t.skinHex === '614335' && BLACK_AND_BROWN.includes(t.facialHairHex))).toBe(false);
  });

  it("'hair' reproduces the first data sets: the beard takes the hair's colour", () => {
    for (const t of hair) expect(t.facialHairHex).toBe(t.hairHex);
  });

  it("frames: 'dark' leaves out light blue and red, 'all' has DiceBear's six", () => {
    const glasses = (ts: AvatarTraits[]) => new Set(ts.filter((t) => t.eyeglasses).map((t) => t.glassesColour));
    expect([...glasses(dark)].sort()).toEqual(['25557c', '262e33', '3c4f5c', '929598']);
    expect([...glasses(contrast)].sort()).toEqual(['25557c', '262e33', '3c4f5c', '5199e4', '929598', 'ff5c5c']);
  });

  it('a look changes only the colours it names: every other trait is drawn the same', () => {
    for (let i = 0; i < N; i++) {
      expect(without(contrast[i]!)).toEqual(without(dark[i]!));
      expect(without(hair[i]!)).toEqual(without(dark[i]!));
    }
    expect(() => drawTraits(5, 0, { facialHairColour: 'purple' as never })).toThrow(/facial hair colour must be one of dark, contrast, hair, got "purple"/);
    expect(() => drawTraits(5, 0, { frameColours: 'neon' as never })).toThrow(/frame colours must be one of dark, all, got "neon"/);
  });
});

describe('drawn traits', () => {
  const N = 4000;
  const all = Array.from({ length: N }, (_, i) => attributesOf(drawTraits(3, i)));
  const rate = (name: (typeof CELEBA_ATTRIBUTES)[number]): number => all.filter((a) => attr(a, name) === 1).length / N;

  it('give every forced attribute a healthy share of positives, at the documented rates', () => {
    expect(rate('Smiling')).toBeCloseTo(TRAIT_RATES.smiling, 1);
    expect(rate('Eyeglasses')).toBeCloseTo(TRAIT_RATES.eyeglasses, 1);
    expect(rate('Wearing_Hat')).toBeCloseTo(TRAIT_RATES.hat, 1);
    expect(rate('No_Beard')).toBeCloseTo(1 - TRAIT_RATES.beard - TRAIT_RATES.moustache, 1);
    for (const name of ['Black_Hair', 'Blond_Hair', 'Brown_Hair', 'Gray_Hair', 'Bald', 'Mustache', 'Pale_Skin', 'Narrow_Eyes', 'Straight_Hair', 'Wavy_Hair', 'Mouth_Slightly_Open'] as const) {
      expect(rate(name), name).toBeGreaterThan(0.12);
    }
    expect(rate('Male')).toBe(0);
  });

  it('draw independent attributes independently', () => {
    const both = all.filter((a) => attr(a, 'Smiling') === 1 && attr(a, 'Eyeglasses') === 1).length / N;
    expect(both).toBeCloseTo(rate('Smiling') * rate('Eyeglasses'), 1);
    const hatAndBeard = all.filter((a) => attr(a, 'Wearing_Hat') === 1 && attr(a, 'No_Beard') === -1).length / N;
    expect(hatAndBeard).toBeCloseTo(rate('Wearing_Hat') * (1 - rate('No_Beard')), 1);
  });

  it('depend only on seed and index', () => {
    expect(drawTraits(5, 17)).toEqual(drawTraits(5, 17));
    expect(drawTraits(5, 17)).not.toEqual(drawTraits(6, 17));
  });
});

describe('writeAvatarSet', () => {
  const a = join(tmp, 'a');
  const b = join(tmp, 'b');

  it('writes byte-identical files for the same seed', async () => {
    await writeAvatarSet({ count: 12, out: a, seed: 4, testFraction: 0.25 });
    await writeAvatarSet({ count: 12, out: b, seed: 4, testFraction: 0.25 });
    const files = readdirSync(join(a, 'img_align_celeba')).sort();
    expect(files).toEqual(Array.from({ length: 12 }, (_, i) => `${String(i + 1).padStart(6, '0')}.jpg`));
    for (const f of files) expect(readFileSync(join(a, 'img_align_celeba', f)).equals(readFileSync(join(b, 'img_align_celeba', f))), f).toBe(true);
    for (const f of ['list_attr_celeba.txt', 'list_eval_partition.txt']) expect(readFileSync(join(a, f), 'utf8')).toBe(readFileSync(join(b, f), 'utf8'));
    const meta = await sharp(join(a, 'img_align_celeba', '000001.jpg')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 178, 218]);
  });

  it("writes CelebA's annotation format", () => {
    const lines = readFileSync(join(a, 'list_attr_celeba.txt'), 'utf8').split('\n');
    expect(lines[0]).toBe('12');
    expect(lines[1]!.trim().split(' ')).toEqual([...CELEBA_ATTRIBUTES]);
    expect(lines[2]).toMatch(/^000001\.jpg( (-1| 1)){40}$/);
    const partitions = readFileSync(join(a, 'list_eval_partition.txt'), 'utf8').trim().split('\n');
    expect(partitions[0]).toBe('000001.jpg 0');
    expect(partitions.slice(9)).toEqual(['000010.jpg 2', '000011.jpg 2', '000012.jpg 2']);
  });

  it('refuses to write into a non-empty folder unless asked to overwrite', async () => {
    await expect(writeAvatarSet({ count: 2, out: a, seed: 4, testFraction: 0 })).rejects.toThrow(/not empty.*--overwrite/);
    await writeAvatarSet({ count: 2, out: a, seed: 9, testFraction: 0.5, overwrite: true });
    expect(readdirSync(join(a, 'img_align_celeba'))).toHaveLength(2);
  });

  it('reads back through loadCelebA with the forced attributes', async () => {
    const ds = await loadCelebA(b, { size: [64, 64], cacheDir: join(tmp, 'cache'), log: null });
    expect(ds.attributeNames).toEqual([...CELEBA_ATTRIBUTES]);
    expect([ds.train.count, ds.test.count, ds.skipped.length]).toEqual([9, 3, 0]);
    for (let i = 0; i < 12; i++) {
      const split = i < 9 ? ds.train : ds.test;
      const k = i < 9 ? i : i - 9;
      expect(Array.from(split.attributes.subarray(k * 40, (k + 1) * 40)), `image ${i + 1}`).toEqual(Array.from(attributesOf(drawTraits(4, i))));
    }
    // The crop keeps the face: the centre pixel is skin, not background.
    const t = drawTraits(4, 0);
    const x = ds.train.read([0]);
    const centre = (32 * 64 + 32) * 3;
    const skin = [0, 2, 4].map((o) => parseInt(t.skinHex.slice(o, o + 2), 16) / 255);
    for (let c = 0; c < 3; c++) expect(Math.abs(x[centre + c]! - skin[c]!)).toBeLessThan(0.08);
  });
});
