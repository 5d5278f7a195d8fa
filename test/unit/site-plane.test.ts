import { describe, expect, it } from 'vitest';
import { parseLatentMap } from '../../lib/bundle.ts';
import { encodeShareQuery } from '../../lib/latent-url.ts';
import { normalQuantile } from '../../lib/stats.ts';
import {
  CLASS_COLORS,
  classColor,
  gridCellAt,
  gridSheet,
  nearestPoint,
  neighbourhoodLabel,
  sheetRowOrder,
  visibleRows,
} from '../../site/scripts/digits/plane-data.ts';
import { toRgba } from '../../site/scripts/engine/rgba.ts';
import { labelCounts } from '../../site/scripts/studio/class-legend.ts';
import { displayPoint, formatCoordinate, pinnedSearch, readArrival } from '../../site/scripts/digits/share-state.ts';

const model = { version: '5b2a642e', latentDim: 2 };

describe('share links on the digits page', () => {
  it('treats a missing z as a plain visit', () => {
    expect(readArrival('', model)).toEqual({ kind: 'none' });
    expect(readArrival('?backend=cpu', model)).toEqual({ kind: 'none' });
  });

  it('round-trips a pinned point, keeping other parameters', () => {
    const z = displayPoint(1.2345, -0.5);
    const search = pinnedSearch('?backend=wasm&z=old', z, model.version);
    expect(search.startsWith('?z=1.5b2a642e.')).toBe(true);
    expect(search.endsWith('&backend=wasm')).toBe(true);
    expect(readArrival(search, model)).toEqual({ kind: 'point', z });
  });

  it('restores exactly the point that was shown (float16)', () => {
    const shown = displayPoint(0.1, 2.71828);
    expect(shown).toEqual([0.0999755859375, 2.71875]);
    const back = readArrival(pinnedSearch('', shown, model.version), model);
    expect(back.kind === 'point' && back.z).toEqual(shown);
  });

  it('explains a malformed link instead of failing', () => {
    for (const bad of ['?z=garbage', '?z=1.5b2a642e.%%%', '?z=1.5b2a642e.AAAA', '?z=2.5b2a642e.AAAAAA', '?z=1.5b2a642e.AAAAAA&z=1']) {
      const r = readArrival(bad, model);
      expect(r.kind, bad).toBe('invalid');
      expect(r.kind === 'invalid' && r.message.length > 10).toBe(true);
    }
  });

  it('restores a point from another model version but says so', () => {
    const q = `?${encodeShareQuery({ z: new Float32Array([1, -1]), sliders: [] }, 'deadbeef')}`;
    const r = readArrival(q, model);
    expect(r.kind).toBe('other-version');
    if (r.kind === 'other-version') {
      expect(r.z).toEqual([1, -1]);
      expect(r.message).toContain('model version deadbeef');
    }
  });

  it('formats coordinates with a real minus sign', () => {
    expect(formatCoordinate(-1.5)).toBe('\u22121.500');
    expect(formatCoordinate(-0)).toBe('0.000');
    expect(formatCoordinate(2, 1)).toBe('2.0');
  });
});

describe('latent-map.json', () => {
  const good = { classes: ['a', 'b'], z: [0, 0, 1, 1, -1, 2], label: [0, 1, 1] };

  it('accepts a consistent map', () => {
    expect(parseLatentMap(good)).toEqual(good);
    const map = parseLatentMap(good);
    expect(labelCounts(map.label, map.classes.length)).toEqual([1, 2]);
  });

  it('names the first problem', () => {
    expect(() => parseLatentMap([])).toThrow(/JSON object/);
    expect(() => parseLatentMap({ ...good, classes: [] })).toThrow(/classes/);
    expect(() => parseLatentMap({ ...good, z: [0, 'x'] })).toThrow(/"z"/);
    expect(() => parseLatentMap({ ...good, label: [0, 2, 1] })).toThrow(/below 2/);
    expect(() => parseLatentMap({ ...good, z: [0, 0, 1] })).toThrow(/two per label/);
  });

  it('finds the nearest point and the neighbourhood majority', () => {
    const map = parseLatentMap({ classes: ['x', 'y'], z: [0, 0, 0.1, 0, 0.2, 0, 5, 5], label: [0, 0, 1, 1] });
    expect(nearestPoint(map, 4, 4)).toBe(3);
    expect(nearestPoint({ classes: [], z: [], label: [] }, 0, 0)).toBe(-1);
    const n = neighbourhoodLabel(map, 0.05, 0, 3)!;
    expect(n.label).toBe(0);
    expect(n.share).toBeCloseTo(2 / 3, 12);
    expect(n.k).toBe(3);
    expect(n.nearest).toBeCloseTo(0.05, 12);
    const tie = neighbourhoodLabel(map, 0.15, 0, 2)!;
    expect(tie.label).toBe(0);
    expect(neighbourhoodLabel({ classes: [], z: [], label: [] }, 0, 0)).toBeNull();
  });

  it('has a colour per digit class', () => {
    expect(new Set(CLASS_COLORS).size).toBe(10);
    expect(classColor(12)).toBe(CLASS_COLORS[2]);
    expect(classColor(-1)).toBe(CLASS_COLORS[9]);
  });
});

describe('pixels', () => {
  it('maps grey values to RGBA, clamped and rounded', () => {
    const out = new Uint8ClampedArray(12);
    toRgba([0, 0.5, 1.7], 1, out);
    expect(Array.from(out)).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
  });

  it('maps RGB values, from an offset', () => {
    const out = new Uint8ClampedArray(4);
    toRgba([9, 9, 9, 1, 0, -0.2], 3, out, 3, 1);
    expect(Array.from(out)).toEqual([255, 0, 0, 255]);
  });
});

describe('the quantile grid', () => {
  it('places cells at the prior quantiles, top row highest', () => {
    const g = gridSheet(4);
    expect(g.axis).toHaveLength(4);
    expect(g.axis[0]).toBeCloseTo(normalQuantile(0.125), 2);
    expect(g.axis[3]).toBeCloseTo(normalQuantile(0.875), 2);
    // cell (0, 0): left column, top row
    expect([g.points[0], g.points[1]]).toEqual([g.axis[0], g.axis[3]]);
    // cell (3, 2): bottom row, third column
    const i = 2 * (3 * 4 + 2);
    expect([g.points[i], g.points[i + 1]]).toEqual([g.axis[2], g.axis[0]]);
  });

  it('is symmetric about the origin and float16-exact', () => {
    const g = gridSheet(7);
    expect(g.axis[3]).toBe(0);
    expect(g.axis[0]).toBe(-g.axis[6]!);
    for (const v of g.points) expect(displayPoint(v, 0)[0]).toBe(v);
  });

  it('rejects a bad size', () => {
    expect(() => gridSheet(0)).toThrow(RangeError);
    expect(() => gridSheet(2.5)).toThrow(RangeError);
  });

  it('finds the cell under the pointer', () => {
    expect(gridCellAt(10, 280, 0, 0)).toEqual({ row: 0, col: 0 });
    expect(gridCellAt(10, 280, 279.9, 28)).toEqual({ row: 1, col: 9 });
    expect(gridCellAt(10, 280, 280, 10)).toBeNull();
    expect(gridCellAt(10, 280, -1, 10)).toBeNull();
  });
});

describe('sheet row order', () => {
  it('decodes the rows on screen first, then below, then above (nearest first)', () => {
    expect(sheetRowOrder(6, [2, 3])).toEqual([2, 3, 4, 5, 1, 0]);
    expect(sheetRowOrder(4, null)).toEqual([0, 1, 2, 3]);
    expect(sheetRowOrder(3, [0, 2])).toEqual([0, 1, 2]);
    expect(sheetRowOrder(5, [4, 9])).toEqual([4, 3, 2, 1, 0]);
  });

  it('finds the rows a viewport shows', () => {
    // 10 rows of 50 px starting 120 px down a 300 px viewport: rows 0 to 3 show (row 3 in part).
    expect(visibleRows(10, 120, 500, 300)).toEqual([0, 3]);
    // Scrolled so the sheet starts 260 px above the viewport: rows 5 to 9.
    expect(visibleRows(10, -260, 500, 900)).toEqual([5, 9]);
    expect(visibleRows(10, 900, 500, 900)).toBeNull();
    expect(visibleRows(10, -500, 500, 900)).toBeNull();
    expect(visibleRows(10, 0, 0, 900)).toBeNull();
  });
});
