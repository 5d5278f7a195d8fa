import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { editMeetsTargets, parseEditTable } from '../../lib/edit-table.ts';

describe('the attribute-edit table in a manifest', () => {
  it('reads the first generation: one scale, one target for all three figures', () => {
    const t = parseEditTable({ scale: 3.5, target: 0.8, method: 'm', classifierOnReconstructions: { Smiling: 0.99, Bad: 'x' }, rows: [
      { name: 'Smiling', add: 0.9, remove: 0.85, othersUnchanged: 0.82, addCount: 200, removeCount: 200, flips: [{ name: 'Pale_Skin', share: 0.1 }, { bad: 1 }] },
      { add: 1 },
      'junk',
    ] })!;
    expect(t.rows).toHaveLength(1);
    expect(t.rows[0]!.flips).toEqual([{ name: 'Pale_Skin', share: 0.1 }]);
    expect([t.scale, t.target, t.othersTarget, t.method]).toEqual([3.5, 0.8, 0.8, 'm']);
    expect(t.onReconstructions).toEqual({ Smiling: 0.99 });
    expect(editMeetsTargets(t.rows[0]!, t)).toBe(true);
  });

  it('reads the calibrated generation: per-attribute scale and method, keep on, where it can show, before, every method', () => {
    const row = { name: 'Brown_Hair', method: 'regression', scale: { add: 3, remove: 2 }, showsOn: 'faces with hair', add: 0.7, remove: 1, othersUnchanged: 0.95, addShowable: 0.9, removeShowable: 1, addCount: 300, removeCount: 300, flips: [],
      kept: { add: 0.6, remove: 1, othersUnchanged: 0.97, addCount: 300, removeCount: 300, flips: [] },
      before: { add: 0.04, remove: 1, othersUnchanged: 0.97, addCount: 300, removeCount: 300, flips: [] },
      methods: { probe: { add: 0.1, remove: 0.2, othersUnchanged: 0.9, addCount: 300, removeCount: 300, flips: [], scale: { add: 1, remove: 1 } } } };
    const t = parseEditTable({ target: 0.8, othersTarget: 0.9, before: { what: 'old', scale: 3.5 }, rows: [row] })!;
    const r = t.rows[0]!;
    expect(r).toMatchObject({ method: 'regression', scale: { add: 3, remove: 2 }, showsOn: 'faces with hair', addShowable: 0.9 });
    expect(r.kept!.othersUnchanged).toBe(0.97);
    expect(r.before!.add).toBe(0.04);
    expect(r.methods!.probe!.scale).toEqual({ add: 1, remove: 1 });
    expect(t.before).toEqual({ what: 'old', scale: 3.5 });
    expect(t.scale).toBeNull();
    // Others at 95% pass the 90% bar; add at 70% does not pass 80%.
    expect(editMeetsTargets(r, t)).toBe(false);
    expect(editMeetsTargets({ ...r, add: 0.8 }, t)).toBe(true);
    expect(editMeetsTargets({ ...r, add: 0.8, othersUnchanged: 0.85 }, t)).toBe(false);
  });

  it('reads the adds by start state of a state attribute, skipping malformed ones', () => {
    const row = { name: 'Blond_Hair', add: 0.88, remove: 0.99, othersUnchanged: 0.99, addCount: 300, removeCount: 300, flips: [], addByDirection: 0.54,
      fromStates: [{ state: 'Black_Hair', faces: 51, scale: 1.25, add: 0.82, calibrationShare: 0.9 }, { state: 'Bald', add: 'x' }, { faces: 3 }] };
    const t = parseEditTable({ target: 0.8, rows: [row] })!;
    expect(t.rows[0]!.fromStates).toEqual([{ state: 'Black_Hair', faces: 51, scale: 1.25, add: 0.82 }]);
    expect(t.rows[0]!.addByDirection).toBe(0.54);
    expect(parseEditTable({ rows: [{ ...row, fromStates: undefined, addByDirection: undefined }] })!.rows[0]!.fromStates).toBeUndefined();
  });

  it('reads an attribute added by the Gaussian transport, and ignores a malformed one', () => {
    const row = { name: 'Bald', add: 1, remove: 1, othersUnchanged: 0.98, addCount: 300, removeCount: 300, flips: [], addByDirection: 0.54, transport: { scale: 1.25, calibrationShare: 0.97 } };
    expect(parseEditTable({ rows: [row] })!.rows[0]!.transport).toEqual({ kind: 'gaussian', scale: 1.25, calibrationShare: 0.97 });
    const net = { kind: 'network', scale: 1, calibrationShare: 0.88, pairs: 12000, validationR2: 0.97 };
    expect(parseEditTable({ rows: [{ ...row, transport: net }] })!.rows[0]!.transport).toEqual(net);
    expect(parseEditTable({ rows: [{ ...row, transport: { scale: 'x' } }] })!.rows[0]!.transport).toBeUndefined();
    expect(parseEditTable({ rows: [{ ...row, transport: undefined }] })!.rows[0]!.transport).toBeUndefined();
  });

  it('is null without a table, and reads the committed faces manifest', () => {
    expect(parseEditTable(undefined)).toBeNull();
    expect(parseEditTable({ rows: 'no' })).toBeNull();
    const m = JSON.parse(readFileSync(new URL('../../public/models/faces/manifest.json', import.meta.url), 'utf8'));
    const t = parseEditTable(m.metrics.attributeEdits)!;
    expect(t.rows.length).toBe(15);
    for (const r of t.rows) expect(r.add).toBeGreaterThanOrEqual(0);
  });
});
