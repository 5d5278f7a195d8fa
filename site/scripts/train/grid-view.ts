/**
 * The decoded grid: size × size digits the worker decoded at evenly spaced
 * points of [-extent, extent]², drawn pixel for pixel (the canvas is scaled
 * up by CSS with crisp pixels) as white ink on black, like the explorer's sheet.
 */
import { formatTick } from '../studio/plane-axes.ts';
import type { GridMessage } from './state.ts';

export const TILE = 28;

/**
 * The tiles (tile-major: tile (r, c) is the (r·size + c)-th, each TILE×TILE
 * row-major, values in [0, 1]) as one RGBA image, tile (0, 0) top left.
 */
export function gridToRgba(pixels: Float32Array, size: number, tile = TILE): Uint8ClampedArray<ArrayBuffer> {
  const side = size * tile;
  const out = new Uint8ClampedArray(side * side * 4);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const base = (r * size + c) * tile * tile;
      for (let y = 0; y < tile; y++) {
        let o = ((r * tile + y) * side + c * tile) * 4;
        for (let x = 0; x < tile; x++, o += 4) {
          const v = Math.round(255 * (pixels[base + y * tile + x] ?? 0));
          out[o] = out[o + 1] = out[o + 2] = v;
          out[o + 3] = 255;
        }
      }
    }
  }
  return out;
}

/** What the grid shows, in words (its caption and its label). */
export function gridCaption(size: number, extent: number, step: number): string {
  const e = formatTick(Number(extent.toFixed(1)));
  return `${size} × ${size} digits decoded after ${step.toLocaleString('en')} steps at evenly spaced points of z₁ and z₂ from −${e} to ${e}: z₁ grows to the right, z₂ upwards (the top row is z₂ = ${e}).`;
}

export class GridView {
  private shown: GridMessage | null = null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly caption: HTMLElement,
  ) {}

  draw(grid: GridMessage): void {
    if (grid === this.shown) return;
    this.shown = grid;
    const side = grid.size * TILE;
    if (this.canvas.width !== side) this.canvas.width = this.canvas.height = side;
    const image = new ImageData(gridToRgba(grid.pixels, grid.size), side, side);
    this.canvas.getContext('2d')!.putImageData(image, 0, 0);
    const words = gridCaption(grid.size, grid.extent, grid.step);
    this.caption.textContent = words;
    this.canvas.setAttribute('aria-label', `Decoded digits: ${words}`);
  }

  clear(): void {
    this.shown = null;
    const ctx = this.canvas.getContext('2d')!;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.caption.textContent = 'The decoder’s digits over the plane appear here once training starts.';
    this.canvas.setAttribute('aria-label', 'Decoded digits: none yet');
  }
}
