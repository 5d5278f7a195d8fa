import { describe, expect, it } from 'vitest';
import type { LabelledCodes } from '../../training/directions.ts';
import { logisticProbe } from '../../training/directions.ts';
import { exclusiveStates, stateMeans, statesOf, unitProbe } from '../../training/state-transport.ts';
import { mulberry32 } from '../../lib/random.ts';
import { fillNormal } from '../../lib/prior.ts';

/** 600 faces in 3-D: hair is black, blond or a hat (one each, exactly), centred at known points; Smiling is independent. */
function codes(): LabelledCodes {
  const names = ['Black_Hair', 'Blond_Hair', 'Wearing_Hat', 'Straight_Hair', 'Smiling'];
  const centres = [[3, 0, 0], [0, 3, 0], [-3, -3, 0]];
  const n = 600;
  const d = 3;
  const z = new Float32Array(n * d);
  const labels = new Int8Array(n * names.length).fill(-1);
  const random = mulberry32(5);
  const eps = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const s = i % 3;
    fillNormal(eps, random);
    for (let q = 0; q < d; q++) z[i * d + q] = centres[s]![q]! + 0.5 * eps[q]!;
    labels[i * names.length + s] = 1;
    // Straight hair comes with black or blond hair on some faces: it is not exclusive with them.
    if (s < 2 && i % 2 === 0) labels[i * names.length + 3] = 1;
    if (random() < 0.5) labels[i * names.length + 4] = 1;
  }
  return { z, d, n, labels, names };
}

describe('states and transports (training/state-transport.ts)', () => {
  it('finds the exclusive set every face has one of, within a group, and nothing where there is none', () => {
    const c = codes();
    expect(exclusiveStates(c, c.names)!.sort()).toEqual(['Black_Hair', 'Blond_Hair', 'Wearing_Hat']);
    // Without the hat a third of the faces have no state: below the coverage a state set needs.
    expect(exclusiveStates(c, ['Black_Hair', 'Blond_Hair', 'Straight_Hair', 'Smiling'])).toBeNull();
  });

  it('reads each face by the strongest unit-probe margin and averages each state', () => {
    const c = codes();
    const states = ['Black_Hair', 'Blond_Hair', 'Wearing_Hat'];
    const probes = new Map(states.map((s) => [s, logisticProbe(c, s)]));
    const read = statesOf(c, states, probes);
    const right = read.filter((s, i) => s === states[i % 3]).length;
    expect(right / c.n).toBeGreaterThan(0.98);
    const means = stateMeans(c, states);
    expect(Array.from(means.get('Blond_Hair')!).map((v) => Math.round(v) + 0)).toEqual([0, 3, 0]);
    // The stored bias goes with the unit normal: the same boundary as w·z + b.
    const p = probes.get('Black_Hair')!;
    const u = unitProbe(p);
    const z = [1.2, -0.4, 0.3];
    const raw = p.w.reduce((s, w, q) => s + w * z[q]!, p.b);
    const unitMargin = u.normal.reduce((s, w, q) => s + w * z[q]!, u.bias);
    expect(unitMargin * Math.hypot(...p.w)).toBeCloseTo(raw, 9);
  });
});
