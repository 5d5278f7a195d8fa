/** The pure parts of the uses pages: MNIST-style preprocessing of a drawing, and the plot geometry. */
import { describe, expect, it } from 'vitest';
import { centreByMass, centreOfMass, downsample, fitTransform, greyFromRgba, judgeDrawing, MIN_JUDGED_INK, MIN_JUDGED_SPAN, shiftImage, strokeBounds } from '../../site/scripts/uses/mnist-preprocess.ts';
import { pngSize } from '../../site/build/bundle-files.ts';
import { encodePng } from '../../training/png.ts';
import { dotPaths, histogramPath, linearScale, linePath, logScale, logTicks, niceTicks, robustRange, tickLabel } from '../../site/scripts/uses/plot.ts';

describe('MNIST-style preprocessing', () => {
  it('finds the bounding box of all strokes', () => {
    expect(strokeBounds([])).toBeNull();
    expect(strokeBounds([[[10, 20], [30, 5]], [[15, 40]]])).toEqual({ minX: 10, minY: 5, maxX: 30, maxY: 40 });
  });

  it('fits the larger side, pen included, into 20 px at the centre of 28', () => {
    // A box 100 wide and 200 tall: the height maps to 20 - pen width.
    const t = fitTransform({ minX: 50, minY: 100, maxX: 150, maxY: 300 }, { penWidth: 2 });
    expect(t.scale).toBeCloseTo(18 / 200, 12);
    const at = (x: number, y: number) => [x * t.scale + t.offsetX, y * t.scale + t.offsetY];
    expect(at(100, 200)).toEqual([14, 14]);
    const [top, bottom] = [at(100, 100)[1]!, at(100, 300)[1]!];
    expect(bottom - top + t.penWidth).toBeCloseTo(20, 12);
    const [left, right] = [at(50, 200)[0]!, at(150, 200)[0]!];
    expect(right - left).toBeCloseTo(9, 12);
  });

  it('keeps a small mark small when given a minimum extent', () => {
    const t = fitTransform({ minX: 0, minY: 0, maxX: 0, maxY: 0 }, { penWidth: 2, minExtent: 50 });
    expect(t.scale).toBeCloseTo(18 / 50, 12);
    expect([t.offsetX, t.offsetY]).toEqual([14, 14]);
  });

  it('averages blocks when shrinking', () => {
    const big = [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1];
    expect(Array.from(downsample(big, 4, 2))).toEqual([1, 0, 0, 0.75]);
    expect(() => downsample(big, 4, 3)).toThrow();
  });

  it('finds the centre of mass with pixel centres at i + 0.5', () => {
    const img = new Float32Array(16);
    img[1 * 4 + 2] = 1; // x = 2, y = 1
    expect(centreOfMass(img, 4)).toEqual([2.5, 1.5]);
    expect(centreOfMass(new Float32Array(16), 4)).toBeNull();
  });

  it('shifts whole pixels and drops what leaves the frame', () => {
    const img = Float32Array.from([1, 2, 3, 4]);
    expect(Array.from(shiftImage(img, 2, 1, 0))).toEqual([0, 1, 0, 3]);
    expect(Array.from(shiftImage(img, 2, 0, -1))).toEqual([3, 4, 0, 0]);
  });

  it('moves a blob drawn in a corner so its centre of mass is at (14, 14)', () => {
    const img = new Float32Array(28 * 28);
    for (let y = 2; y < 6; y++) for (let x = 3; x < 7; x++) img[y * 28 + x] = 1;
    const centred = centreByMass(img, 28);
    expect(centreOfMass(centred, 28)).toEqual([14, 14]);
    expect(centred.reduce((a, b) => a + b, 0)).toBe(16);
  });

  it('reads grey levels from the red channel of RGBA bytes', () => {
    const grey = greyFromRgba([255, 255, 255, 255, 0, 0, 0, 255, 51, 51, 51, 255]);
    [1, 0, 0.2].forEach((v, i) => expect(grey[i]).toBeCloseTo(v, 6));
  });
});

describe('drawings too small to judge', () => {
  /** A 28x28 image with white squares (x, y, side). */
  const image = (...squares: [number, number, number][]) => {
    const g = new Float32Array(28 * 28);
    for (const [x0, y0, side] of squares) for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) g[y * 28 + x] = 1;
    return g;
  };

  it('refuses an empty pad, a dot and a speck, and says why', () => {
    expect(judgeDrawing(null, 28)).toMatchObject({ ok: false, reason: 'empty' });
    expect(judgeDrawing(new Float32Array(784), 28)).toMatchObject({ ok: false, reason: 'empty' });
    // The dot from the issue: a couple of pixels of ink in the middle.
    const dot = judgeDrawing(image([13, 13, 2]), 28);
    expect(dot).toMatchObject({ ok: false, reason: 'small' });
    expect(!dot.ok && dot.message).toMatch(/^Too small to judge/);
    // One short of the span that is judged.
    expect(judgeDrawing(image([5, 5, 2], [5 + MIN_JUDGED_SPAN - 2, 5, 1]), 28)).toMatchObject({ ok: false, reason: 'small' });
    // Two far-apart specks: span enough, ink not.
    expect(judgeDrawing(image([2, 2, 1], [25, 25, 1]), 28)).toMatchObject({ ok: false, reason: 'faint' });
  });

  it('judges anything shaped like an MNIST digit, down to the thinnest "1"', () => {
    // A one-pixel-wide vertical bar 20 px tall: thinner than any MNIST "1" (least ink in the test set: 22).
    const one = new Float32Array(784);
    for (let y = 4; y < 24; y++) one[y * 28 + 14] = 1;
    expect(judgeDrawing(one, 28)).toEqual({ ok: true });
    expect(judgeDrawing(image([9, 9, MIN_JUDGED_SPAN]), 28)).toEqual({ ok: true });
    expect(MIN_JUDGED_INK).toBeLessThan(22);
  });

  it('ignores faint anti-aliasing when measuring the span', () => {
    const g = image([13, 13, 2]);
    g[0] = 0.05;
    g[27 * 28 + 27] = 0.05;
    expect(judgeDrawing(g, 28)).toMatchObject({ ok: false, reason: 'small' });
  });
});

describe('PNG size', () => {
  it('reads width and height from the header', () => {
    expect(pngSize(encodePng(7, 3, 3, new Uint8Array(7 * 3 * 3)))).toEqual({ width: 7, height: 3 });
    expect(pngSize(encodePng(530, 398, 1, new Uint8Array(530 * 398)))).toEqual({ width: 530, height: 398 });
  });

  it('refuses what is not a PNG', () => {
    expect(pngSize(new Uint8Array(0))).toBeNull();
    expect(pngSize(new TextEncoder().encode('GIF89a and some more bytes here'))).toBeNull();
    const png = encodePng(2, 2, 3, new Uint8Array(12));
    png[12] = 0x58; // the first chunk is no longer IHDR
    expect(pngSize(png)).toBeNull();
  });
});

describe('plot geometry', () => {
  it('maps domains to ranges, linearly and on log10', () => {
    const s = linearScale([0, 10], [100, 0]);
    expect(s(0)).toBe(100);
    expect(s(2.5)).toBe(75);
    const l = logScale([10, 1000], [0, 200]);
    expect(l(100)).toBeCloseTo(100, 12);
  });

  it('picks round ticks', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(-3.2, 3.7, 6)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    expect(niceTicks(0.13, 0.52, 4)).toEqual([0.2, 0.3, 0.4, 0.5]);
    expect(logTicks(80, 1200)).toEqual([100, 200, 500, 1000]);
    expect(tickLabel(0.30000000000000004)).toBe('0.3');
    expect(tickLabel(25000)).toBe('25k');
  });

  it('trims outliers from a range and pads it', () => {
    const values = Array.from({ length: 1001 }, (_, i) => i / 100);
    values.push(1e6);
    // Trimming 0.1% of 1,002 values drops the lowest and the outlier.
    const [lo, hi] = robustRange(values, 0.001, 0);
    expect(lo).toBe(0.01);
    expect(hi).toBe(10);
    expect(robustRange([1, 3], 0, 0.5)).toEqual([0, 4]);
  });

  it('draws dots as zero-length segments per group and leaves out what falls outside', () => {
    const sx = linearScale([0, 10], [0, 100]);
    const sy = linearScale([0, 10], [100, 0]);
    const { paths, drawn, clipped } = dotPaths([1, 1, 2, 3, 50, 50, 5, 5], [0, 1, 0, 0], sx, sy, 0);
    expect(paths.get(0)).toBe('M10 90h0M50 50h0');
    expect(paths.get(1)).toBe('M20 70h0');
    expect([drawn, clipped]).toEqual([3, 1]);
  });

  it('draws lines that break at missing values, and histogram outlines', () => {
    const s = linearScale([0, 10], [0, 10]);
    expect(linePath([1, 2, 3, 4], [1, NaN, 3, 4], s, s)).toBe('M1.0 1.0M3.0 3.0L4.0 4.0');
    expect(histogramPath([0, 1, 2], [3, 5], s, s)).toBe('M0.0 0.0V3.0H1.0V5.0H2.0V0.0Z');
  });
});
