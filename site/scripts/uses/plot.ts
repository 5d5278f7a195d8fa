/**
 * Geometry for the small SVG plots the uses pages and model cards draw at
 * build time: scales, tick values, and compact path strings. Pure functions,
 * so a unit test can check them without a browser.
 */

export interface Scale {
  (v: number): number;
  domain: [number, number];
  range: [number, number];
}

export function linearScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  const f = ((v: number) => r0 + (v - d0) * k) as Scale;
  f.domain = domain;
  f.range = range;
  return f;
}

/** A scale on log10(v); v must be positive. */
export function logScale(domain: [number, number], range: [number, number]): Scale {
  const inner = linearScale([Math.log10(domain[0]), Math.log10(domain[1])], range);
  const f = ((v: number) => inner(Math.log10(v))) as Scale;
  f.domain = domain;
  f.range = range;
  return f;
}

/** Round tick values (1, 2 or 5 times a power of ten apart) covering [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(Number.isFinite(min) && Number.isFinite(max))) return [];
  if (max < min) [min, max] = [max, min];
  if (max === min) return [min];
  // The 1-2-5 step nearest (on a log scale) to the span divided by count, as d3 chooses.
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const err = raw / power;
  const step = power * (err >= Math.sqrt(50) ? 10 : err >= Math.sqrt(10) ? 5 : err >= Math.sqrt(2) ? 2 : 1);
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toFixed(12)));
  return out;
}

/** Ticks for a log axis: 1, 2 and 5 times the powers of ten inside [min, max] (only powers of ten when the span is wide). */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0 && max > min)) return [];
  const decades = Math.log10(max / min);
  const multipliers = decades > 3 ? [1] : [1, 2, 5];
  const out: number[] = [];
  for (let p = Math.floor(Math.log10(min)); p <= Math.ceil(Math.log10(max)); p++) {
    for (const m of multipliers) {
      const v = m * 10 ** p;
      if (v >= min && v <= max) out.push(Number(v.toPrecision(6)));
    }
  }
  return out;
}

/** A short label for a tick value: no trailing zeros, thousands as "1k" past 10,000. */
export function tickLabel(v: number): string {
  if (Math.abs(v) >= 10000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(4)));
}

/** The range [lo, hi] holding all but a share `trim` of the values at each end, padded by `pad` of its width. */
export function robustRange(values: ArrayLike<number>, trim = 0.002, pad = 0.06): [number, number] {
  const sorted = Float64Array.from(values as ArrayLike<number>).filter(Number.isFinite).sort();
  if (sorted.length === 0) return [-1, 1];
  const lo = sorted[Math.floor(trim * (sorted.length - 1))]!;
  const hi = sorted[Math.ceil((1 - trim) * (sorted.length - 1))]!;
  const width = hi - lo || 1;
  return [lo - pad * width, hi + pad * width];
}

/**
 * Scatter points as one SVG path per group: each point a zero-length segment
 * ("M x y h0") that a round line cap turns into a dot. Thousands of points
 * cost a few bytes each, far less than a <circle> per point. Points outside
 * the scales' ranges are left out; coordinates are rounded to `decimals`.
 */
export function dotPaths(
  z: ArrayLike<number>,
  group: ArrayLike<number>,
  sx: Scale,
  sy: Scale,
  decimals = 1,
): { paths: Map<number, string>; drawn: number; clipped: number } {
  const paths = new Map<number, string[]>();
  const [x0, x1] = [Math.min(...sx.range), Math.max(...sx.range)];
  const [y0, y1] = [Math.min(...sy.range), Math.max(...sy.range)];
  let drawn = 0;
  let clipped = 0;
  for (let i = 0; i < group.length; i++) {
    const x = sx(z[2 * i]!);
    const y = sy(z[2 * i + 1]!);
    if (!(x >= x0 && x <= x1 && y >= y0 && y <= y1)) {
      clipped++;
      continue;
    }
    const g = group[i]!;
    let parts = paths.get(g);
    if (!parts) paths.set(g, (parts = []));
    parts.push(`M${x.toFixed(decimals)} ${y.toFixed(decimals)}h0`);
    drawn++;
  }
  return { paths: new Map([...paths].map(([g, p]) => [g, p.join('')])), drawn, clipped };
}

/** A polyline through (xs[i], ys[i]), skipping non-finite values (the line breaks there). */
export function linePath(xs: readonly number[], ys: readonly number[], sx: Scale, sy: Scale): string {
  let d = '';
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    const y = ys[i]!;
    if (!Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${sx(xs[i]!).toFixed(1)} ${sy(y).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/** Step outline of a histogram (bin i spans edges[i]..edges[i+1]), closed down to the baseline. */
export function histogramPath(edges: readonly number[], counts: readonly number[], sx: Scale, sy: Scale): string {
  if (counts.length === 0) return '';
  const base = sy(0).toFixed(1);
  let d = `M${sx(edges[0]!).toFixed(1)} ${base}`;
  counts.forEach((c, i) => {
    const y = sy(c).toFixed(1);
    d += `V${y}H${sx(edges[i + 1]!).toFixed(1)}`;
  });
  return `${d}V${base}Z`;
}
