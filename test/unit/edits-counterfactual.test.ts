import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVae, facesArchitecture } from '../../lib/vae-model.ts';
import { selectBackend } from '../../training/backend.ts';
import { loadCelebA } from '../../training/data/celeba.ts';
import { writeAvatarSet } from '../../training/data/avatars.ts';
import { pairMoves, pairsKey } from '../../training/counterfactual-pairs.ts';
import { splitTraits } from '../../training/edits-by-look.ts';
import { encodeMeans } from '../../training/report.ts';
import { CELEBA_ATTRIBUTES } from '../../training/data/celeba.ts';
import { attributesOf, drawTraits } from '../../training/data/avatars.ts';
import { ATTRIBUTE_GROUPS } from '../../training/edit-check.ts';
import { COUNTERFACTUALS, plan, WAVY_FOR } from '../../training/counterfactual-pairs.ts';
import { HAIR } from '../../training/data/avatars.ts';

const traits = Array.from({ length: 300 }, (_, i) => drawTraits(1, i));
const groupOf = (name: string) => Object.entries(ATTRIBUTE_GROUPS).find(([, members]) => members.includes(name))?.[0];

describe('counterfactual avatars', () => {
  for (const name of Object.keys(COUNTERFACTUALS)) {
    it(`draws the same avatar with ${name}: that label turns on, and only labels of its own group change`, () => {
      const pairs = plan(name, 'test', traits, 40);
      expect(pairs.length).toBe(40);
      const j = CELEBA_ATTRIBUTES.indexOf(name as (typeof CELEBA_ATTRIBUTES)[number]);
      for (const p of pairs) {
        const was = attributesOf(traits[p.position]!);
        const now = attributesOf(p.traits);
        expect(was[j]).toBe(-1);
        expect(now[j]).toBe(1);
        const changed = CELEBA_ATTRIBUTES.filter((_, k) => was[k] !== now[k]);
        for (const other of changed) if (other !== name) expect(groupOf(other)).toBe(groupOf(name));
        // Everything the labels do not name stays: background, skin, clothes.
        expect([p.traits.backgroundHex, p.traits.skinHex, p.traits.clothing]).toEqual([traits[p.position]!.backgroundHex, traits[p.position]!.skinHex, traits[p.position]!.clothing]);
      }
    });
  }

  it('skips faces that already have it, and hair edits on faces whose hair does not show', () => {
    const pairs = plan('Brown_Hair', 'test', traits, 1000);
    expect(pairs.every((p) => traits[p.position]!.head === 'hair' && traits[p.position]!.hairColour !== 'brown')).toBe(true);
    expect(pairs.length).toBe(traits.filter((t) => t.head === 'hair' && t.hairColour !== 'brown').length);
    expect(() => plan('Goatee', 'test', traits, 1)).toThrow(/no counterfactual for Goatee/);
  });

  it('makes each face wavy in a style of about its length, the same one every time (a move a network can learn); bald heads and hats grow curls', () => {
    for (const top of [...HAIR.straight, ...HAIR.other]) expect(HAIR.wavy).toContain(WAVY_FOR[top]);
    const pairs = plan('Wavy_Hair', 'test', traits, 1000);
    for (const p of pairs) {
      const was = traits[p.position]!;
      expect(p.traits.head).toBe('hair');
      expect(p.traits.top).toBe(was.head === 'hair' ? WAVY_FOR[was.top] : 'curly');
    }
    // Bald heads and hats grow hair: every face without waves has a counterfactual.
    expect(pairs.length).toBe(traits.filter((t) => attributesOf(t)[CELEBA_ATTRIBUTES.indexOf('Wavy_Hair')] === -1).length);
    expect(plan('Wavy_Hair', 'test', traits, 1000).map((p) => p.traits.top)).toEqual(pairs.map((p) => p.traits.top));
  });

  it('starts after the faces it is told to skip (the calibration faces)', () => {
    const all = plan('Narrow_Eyes', 'train', traits, 1000);
    const later = plan('Narrow_Eyes', 'train', traits, 1000, 100);
    expect(later).toEqual(all.filter((p) => p.position >= 100));
  });
});

describe('pair moves from an avatar set (real files, real tfjs)', () => {
  it('draws and encodes the counterfactuals of training faces after the skipped ones, and refuses a set the seed did not draw', { timeout: 120_000 }, async () => {
    await selectBackend('wasm', 2);
    const root = mkdtempSync(join(tmpdir(), 'pairs-'));
    const dataDir = join(root, 'avatars');
    await writeAvatarSet({ count: 120, out: dataDir, seed: 5, testFraction: 1 / 6 });
    const data = await loadCelebA(dataDir, { size: [32, 32], cacheDir: join(root, 'cache'), log: null });
    const { encoder } = buildVae(data.image, 4, facesArchitecture(data.image, [8, 8, 8, 8]), 1);
    const src = { encoder, data, dataDir, seed: 5, size: [32, 32] as [number, number], crop: 0, cacheDir: join(root, 'cache') };
    const p = await pairMoves(src, 'Smiling', 10, 20);
    const planned = plan('Smiling', 'train', await splitTraits(dataDir, 5, {}, '0'), 10, 20);
    expect(p).toMatchObject({ attribute: 'Smiling', n: planned.length, d: 4 });
    expect(planned.length).toBe(10);
    expect(Array.from(p.before)).toEqual(Array.from(encodeMeans(encoder, data.train, Int32Array.from(planned.map((q) => q.position)))));
    // Each pair's second image is a different picture of the same face: its code moved.
    for (let i = 0; i < p.n; i++) expect(Math.hypot(...p.moves.subarray(i * 4, (i + 1) * 4))).toBeGreaterThan(0);
    expect(existsSync(join(root, 'cache', 'counterfactuals', `5-train-Smiling-20-10-${pairsKey(planned)}`, 'list_attr_celeba.txt'))).toBe(true);
    await expect(pairMoves({ ...src, seed: 6 }, 'Smiling', 10, 20)).rejects.toThrow(/is not what --seed 6 .* draws; pass the flags the set was written with/);
  });
});
