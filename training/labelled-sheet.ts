/** Sheets of decoded images side by side, each panel under a caption, for people to compare samplers by eye. */
import sharp from 'sharp';
import { tile } from './report.ts';

export interface Panel {
  caption: string;
  /** Bytes [n, h, w, c] in 0..255. */
  images: Uint8Array;
  count: number;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Panels of `cols` columns each, side by side, captions above; PNG bytes. */
export async function labelledSheet(panels: Panel[], h: number, w: number, c: number, cols: number): Promise<Uint8Array> {
  const tiles = panels.map((p) => tile(p.images, p.count, h, w, c, cols));
  const gap = 16;
  const header = 44;
  const width = tiles.reduce((s, t) => s + t.width, 0) + gap * (tiles.length + 1);
  const height = Math.max(...tiles.map((t) => t.height)) + header + gap;
  let x = gap;
  const composites: sharp.OverlayOptions[] = [];
  const texts: string[] = [];
  for (const [i, t] of tiles.entries()) {
    composites.push({ input: Buffer.from(t.png), left: x, top: header });
    const lines = panels[i]!.caption.split('\n');
    lines.forEach((line, k) => texts.push(`<text x="${x + t.width / 2}" y="${17 + k * 17}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="14" fill="#222">${escapeXml(line)}</text>`));
    x += t.width + gap;
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${header}">${texts.join('')}</svg>`;
  composites.push({ input: Buffer.from(svg), left: 0, top: 0 });
  const png = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } }).composite(composites).png().toBuffer();
  return new Uint8Array(png);
}
