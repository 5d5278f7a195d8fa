/**
 * The decoded digit: a point decoded into the large canvas (and the small
 * copy that floats over the map on narrow screens), with the read-out of its
 * coordinates and what the map says around it.
 */
import type { LatentMap } from '../../../lib/bundle.ts';
import { neighbourhoodLabel } from './plane-data.ts';
import { formatCoordinate } from './share-state.ts';
import { showsPinned, type DigitsStudio, type Point } from './studio.ts';

/** What the map says around z: the commonest digit among the nearest test digits, or that none is close. */
export function neighbourhoodText(map: LatentMap | null, z: Point): string {
  if (!map) return '—';
  const n = neighbourhoodLabel(map, z[0], z[1]);
  if (!n) return '—';
  if (n.nearest > 0.75) return `none close by (nearest ${n.nearest.toFixed(2)} away): the decoder is extrapolating`;
  return `mostly “${map.classes[n.label]}” (${Math.round(n.share * 100)}% of the ${n.k} nearest)`;
}

/** The digit canvas's accessible name. */
export function digitLabel(z: Point, pinned: boolean): string {
  return `Decoded digit at z1 = ${formatCoordinate(z[0])}, z2 = ${formatCoordinate(z[1])}${pinned ? ' (pinned)' : ''}`;
}

/** What the live region says when the visitor pins or steps to a point. */
export function pointAnnouncement(prefix: string, z: Point, map: LatentMap | null): string {
  return `${prefix} z1 ${formatCoordinate(z[0], 2)}, z2 ${formatCoordinate(z[1], 2)}. Nearby: ${neighbourhoodText(map, z)}.`;
}

/** Decodes z into the large canvas and brings the read-out and the map overlay along. */
export async function show(s: DigitsStudio, z: Point): Promise<void> {
  if (!s.shell.decoder || !s.digitImage) return;
  await s.shell.decodeRgba(Float32Array.of(z[0], z[1]), s.digitImage.data);
  s.digitCtx.putImageData(s.digitImage, 0, 0);
  s.peekCtx.putImageData(s.digitImage, 0, 0);
  s.events.log({ what: 'point' });
  s.shown = z;
  updateReadout(s);
}

/** Asks for z on the next free frame (a newer request replaces it). */
export function request(s: DigitsStudio, z: Point): void {
  s.events.log({ what: 'request' });
  void s.scheduler.request(z);
}

export function updateReadout(s: DigitsStudio): void {
  const { el, shown } = s;
  el.z1.textContent = formatCoordinate(shown[0]);
  el.z2.textContent = formatCoordinate(shown[1]);
  const isPinned = showsPinned(s);
  el.digitMode.textContent = isPinned ? 'pinned' : 'exploring';
  el.digit.setAttribute('aria-label', digitLabel(shown, isPinned));
  el.neighbourhood.textContent = neighbourhoodText(s.latentMap, shown);
  s.view?.drawOverlay({ pinned: s.pinned, cursor: s.cursor });
  s.shell.updateStatus();
}

export function announce(s: DigitsStudio, prefix: string, z: Point): void {
  s.el.pointLive.textContent = pointAnnouncement(prefix, z, s.latentMap);
}
