import { describe, expect, it } from 'vitest';
import { CELEBA_ATTRIBUTES } from '../../training/data/celeba.ts';
import { attributesOf, drawTraits } from '../../training/data/avatars.ts';
import { ATTRIBUTE_GROUPS } from '../../training/edit-check.ts';
import { COUNTERFACTUALS, plan } from '../../training/edits-counterfactual.ts';

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
});
