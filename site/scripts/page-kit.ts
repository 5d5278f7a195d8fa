/** Small pieces every studio page uses: element lookup, a settle-later promise, the download bar. */
import { formatBytes, type ProgressSnapshot } from './progress.ts';

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

export interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** A promise settled from outside (a page's `ready`); an unobserved rejection is not reported as unhandled. */
export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export interface LoaderElements {
  loaderFill: HTMLElement;
  loaderBar: HTMLElement;
  loaderText: HTMLElement;
}

/** Draws download progress into a loader bar: percentage, aria value, and "what — x of y". */
export function showDownload(el: LoaderElements, s: ProgressSnapshot, what = 'the model'): void {
  const pct = s.fraction === null ? 0 : Math.round(s.fraction * 100);
  el.loaderFill.style.width = `${pct}%`;
  el.loaderBar.setAttribute('aria-valuenow', String(pct));
  el.loaderText.textContent = s.total > 0 ? `Downloading ${what} — ${formatBytes(s.loaded)} of ${formatBytes(s.total)}` : `Downloading ${what}…`;
}
