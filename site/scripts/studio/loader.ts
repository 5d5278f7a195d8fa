/** The download bar a studio shows while its model loads: percentage, aria value, and "what — x of y". */
import { formatBytes, type ProgressSnapshot } from '../engine/progress.ts';
import { byId } from './page-kit.ts';

export interface LoaderElements {
  loader: HTMLElement;
  loaderFill: HTMLElement;
  loaderBar: HTMLElement;
  loaderText: HTMLElement;
}

/** The loader `#id` and its `#id-bar`, `#id-fill` and `#id-text`. */
export function loaderElements(id: string): LoaderElements {
  return { loader: byId(id), loaderBar: byId(`${id}-bar`), loaderFill: byId(`${id}-fill`), loaderText: byId(`${id}-text`) };
}

/** Whole percent done, 0 while the total is unknown. */
export function downloadPercent(s: ProgressSnapshot): number {
  return s.fraction === null ? 0 : Math.round(s.fraction * 100);
}

/** "Downloading the model — 1.2 MB of 3.4 MB", or "Downloading the model…" while the total is unknown. */
export function downloadText(s: ProgressSnapshot, what = 'the model'): string {
  return s.total > 0 ? `Downloading ${what} — ${formatBytes(s.loaded)} of ${formatBytes(s.total)}` : `Downloading ${what}…`;
}

/** Draws download progress into a loader bar. */
export function showDownload(el: Omit<LoaderElements, 'loader'>, s: ProgressSnapshot, what = 'the model'): void {
  const pct = downloadPercent(s);
  el.loaderFill.style.width = `${pct}%`;
  el.loaderBar.setAttribute('aria-valuenow', String(pct));
  el.loaderText.textContent = downloadText(s, what);
}
