/**
 * The sheet: an n x n grid of digits decoded at the prior's quantiles, drawn
 * when the visitor gets near it; a cell clicked is pinned on the map.
 */
import { pixelContext } from '../engine/pixel-canvas.ts';
import { toRgba } from '../engine/rgba.ts';
import { pin } from './map-input.ts';
import { gridCellAt, gridSheet, sheetRowOrder, visibleRows, type GridSheet } from './plane-data.ts';
import { formatCoordinate } from './share-state.ts';
import type { DigitsStudio, Point } from './studio.ts';

/** About how long one batch of the sheet may keep the decoder from the pointer. */
const SHEET_BATCH_MS = 60;

/** Rows for the next batch: as many as take about SHEET_BATCH_MS at the last batch's pace, one at least, n at most. */
export function rowsPerBatch(n: number, msPerRow: number): number {
  return Math.max(1, Math.min(n, Math.floor(SHEET_BATCH_MS / Math.max(msPerRow, 0.1))));
}

/** The sheet's accessible name. */
export function sheetLabel(sheet: GridSheet): string {
  const { n, axis } = sheet;
  return `Grid of ${n} by ${n} decoded digits at the prior's quantiles, z1 from ${formatCoordinate(axis[0]!, 2)} to ${formatCoordinate(axis[n - 1]!, 2)}`;
}

/** Decodes `rows` of the sheet in one call and draws them; returns the milliseconds per row. */
async function drawRows(s: DigitsStudio, sheet: GridSheet, rows: readonly number[], ctx: CanvasRenderingContext2D, tile: Uint8ClampedArray): Promise<number> {
  const decoder = s.shell.decoder!;
  const { n, points: all } = sheet;
  const { height: h, width: w, channels } = decoder.image;
  const per = decoder.pixelsPerImage;
  const points = new Float32Array(rows.length * n * 2);
  rows.forEach((row, k) => points.set(all.subarray(2 * row * n, 2 * (row + 1) * n), k * n * 2));
  const t0 = performance.now();
  const values = await decoder.decode(points);
  const msPerRow = (performance.now() - t0) / rows.length;
  rows.forEach((row, k) => {
    const image = new ImageData(n * w, h);
    for (let c = 0; c < n; c++) {
      toRgba(values, channels as 1 | 3, tile, (k * n + c) * per, w * h);
      for (let y = 0; y < h; y++) image.data.set(tile.subarray(y * w * 4, (y + 1) * w * 4), (y * n * w + c * w) * 4);
    }
    ctx.putImageData(image, 0, row * h);
  });
  return msPerRow;
}

/**
 * Decodes the sheet a few rows at a time, rows on screen first. The map's
 * decodes share the decoder and go first: before each batch of rows the
 * sheet waits until no point is waiting or decoding, so the pointer waits
 * for one batch at most, never for the whole sheet. Batches are sized to
 * take about SHEET_BATCH_MS (one row on a slow backend, many on a GPU). A
 * newer sheet size abandons this one.
 */
async function drawSheet(s: DigitsStudio, n: number): Promise<void> {
  const { el } = s;
  const next = gridSheet(n);
  const { height: h, width: w } = s.shell.decoder!.image;
  el.grid.width = n * w;
  el.grid.height = n * h;
  const ctx = pixelContext(el.grid);
  s.sheet = next;
  const done = new Set<number>();
  const tile = new Uint8ClampedArray(w * h * 4);
  let batchRows = 1;
  let batch = 0;
  while (done.size < n) {
    await s.scheduler.whenIdle();
    if (s.gridScheduler.waiting) return;
    const r = el.grid.getBoundingClientRect();
    const rows = sheetRowOrder(n, visibleRows(n, r.top, r.height, innerHeight)).filter((i) => !done.has(i)).slice(0, batchRows);
    const msPerRow = await drawRows(s, next, rows, ctx, tile);
    batch++;
    for (const row of rows) {
      done.add(row);
      s.events.log({ what: 'sheet-row', n, row, batch });
    }
    batchRows = rowsPerBatch(n, msPerRow);
  }
  el.grid.setAttribute('aria-label', sheetLabel(next));
  s.gridCount++;
  s.events.log({ what: 'sheet-done', n });
}

export async function renderGrid(s: DigitsStudio, n: number): Promise<void> {
  if (!s.shell.decoder) return;
  const work = drawSheet(s, n);
  s.gridWork = work.catch(() => {});
  await work;
}

/** The latent point of the sheet cell under the mouse, if any. */
function cellPoint(s: DigitsStudio, e: MouseEvent): Point | null {
  const sheet = s.sheet;
  if (!sheet) return null;
  const r = s.el.grid.getBoundingClientRect();
  const cell = gridCellAt(sheet.n, r.width, e.clientX - r.left, e.clientY - r.top);
  if (!cell) return null;
  const i = 2 * (cell.row * sheet.n + cell.col);
  return [sheet.points[i]!, sheet.points[i + 1]!];
}

function bindGrid(s: DigitsStudio): void {
  const { el } = s;
  el.gridN.disabled = false;
  el.gridN.addEventListener('input', () => {
    el.gridOut.value = el.gridN.value;
    void s.gridScheduler.request(Number(el.gridN.value));
  });
  const defaultCaption = el.gridCaption.textContent;
  el.grid.addEventListener('mousemove', (e) => {
    const z = cellPoint(s, e);
    el.gridCaption.textContent = z ? `z1 = ${formatCoordinate(z[0])}, z2 = ${formatCoordinate(z[1])} — click to pin` : defaultCaption;
  });
  el.grid.addEventListener('mouseleave', () => {
    el.gridCaption.textContent = defaultCaption;
  });
  el.grid.addEventListener('click', (e) => {
    const z = cellPoint(s, e);
    if (!z) return;
    pin(s, z);
    el.map.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  });
}

/** The sheet's controls work from now on; it decodes hundreds of digits at once, so it is drawn only when the visitor gets near it. */
export function startSheet(s: DigitsStudio): void {
  bindGrid(s);
  const observer = new IntersectionObserver(
    (entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      observer.disconnect();
      void s.gridScheduler.request(Number(s.el.gridN.value));
    },
    { rootMargin: '200px' },
  );
  observer.observe(s.el.grid);
}
