/** The pinned point's link: in the address bar as it is pinned, and copied with the button. */
import { pinnedSearch } from './share-state.ts';
import type { DigitsStudio, Point } from './studio.ts';

/** The address now holds the pinned point (unrelated parameters, such as ?backend=, kept). */
export function showPinnedAddress(s: DigitsStudio, z: Point): void {
  if (!s.manifest) return;
  history.replaceState(history.state, '', `${location.pathname}${pinnedSearch(location.search, z, s.manifest.version)}${location.hash}`);
}

/** The copy button copies the pinned point's link, even while the pointer explores elsewhere. */
export function bindCopy(s: DigitsStudio): void {
  s.el.copy.addEventListener('click', async () => {
    const link = s.manifest ? `${location.origin}${location.pathname}${pinnedSearch(location.search, s.pinned, s.manifest.version)}` : location.href;
    try {
      await navigator.clipboard.writeText(link);
      s.el.copyState.textContent = 'Link copied.';
    } catch {
      s.el.copyState.textContent = 'Copying is blocked here; the address bar holds the link.';
    }
  });
}
