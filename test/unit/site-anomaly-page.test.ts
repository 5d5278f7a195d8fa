import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../lib/bundle.ts';
import { parseAnomalyExamples, usesMetricsOf } from '../../lib/uses.ts';
import { exampleInput } from '../../site/scripts/uses/anomaly/examples.ts';
import { newAnomalyState } from '../../site/scripts/uses/anomaly/page.ts';
import { markerAt, rankText, verdictFor } from '../../site/scripts/uses/anomaly/verdict.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const DIGITS = join(ROOT, 'public/models/digits');
const manifest = parseManifest(JSON.parse(readFileSync(join(DIGITS, 'manifest.json'), 'utf8')));
const uses = usesMetricsOf(manifest)!;
const examples = parseAnomalyExamples(JSON.parse(readFileSync(join(DIGITS, uses.files.anomalyExamples), 'utf8')));

describe('the anomaly verdict (site/scripts/uses/anomaly/verdict.ts)', () => {
  it('calls a score above the threshold unusual', () => {
    const t = uses.anomaly.threshold;
    expect(verdictFor(t * 0.9, t)).toEqual({ state: 'normal', text: 'Looks like a handwritten digit' });
    expect(verdictFor(t * 1.1, t)).toEqual({ state: 'anomalous', text: 'Unusual: not like the digits it was trained on' });
  });

  it('places a score among the MNIST test digits the build scored', () => {
    const h = uses.anomaly.histogram;
    expect(rankText(h.edges[0]! / 2, h)).toBe('Higher than about 0% of MNIST test digits.');
    expect(rankText(h.edges[h.edges.length - 1]! * 2, h)).toBe('Higher than practically every MNIST test digit.');
    expect(rankText(uses.anomaly.mnistMedian, h)).toMatch(/^Higher than about (4\d|5\d)% of MNIST test digits\.$/);
    expect(rankText(100, { edges: [1, 2], mnist: [], fashion: [] })).toBe('');
  });

  it('puts the marker on the log axis, at the end for a score off it', () => {
    const axis = { x0: 10, x1: 1000, r0: 40, r1: 440 };
    // log10: 10 → 1, 1000 → 3; 100 sits half-way.
    expect(markerAt(100, axis)).toEqual({ x: '240.0', label: 'you: 100' });
    expect(markerAt(10, axis).x).toBe('40.0');
    expect(markerAt(5, axis)).toEqual({ x: '40.0', label: 'you: 5' });
    expect(markerAt(4000.4, axis)).toEqual({ x: '440.0', label: 'you: 4000 →' });
  });
});

describe('the example images (site/scripts/uses/anomaly/examples.ts)', () => {
  it('turns an example\'s stored bytes into the model\'s 28 x 28 input in [0, 1]', () => {
    const input = exampleInput(examples.examples[0]!.pixels);
    expect(input.length).toBe(28 * 28);
    expect(Math.min(...input)).toBe(0);
    expect(Math.max(...input)).toBeLessThanOrEqual(1);
    expect(Math.max(...input)).toBeGreaterThan(0.5);
  });
});

describe('the anomaly page state (site/scripts/uses/anomaly/page.ts)', () => {
  it('starts with the threshold the page was built with, nothing drawn and nothing scored', () => {
    expect(newAnomalyState(288.9)).toEqual({ threshold: 288.9, uses: null, examples: null, measured: [], runs: 0, last: null, strokes: [], drawing: null });
  });
});
