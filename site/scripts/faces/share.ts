/**
 * Sharing the face: the link (base and sliders, versioned), the address bar
 * kept in step with it, copying, and the system share sheet where there is one.
 */
import { encodeShareQuery } from '../../../lib/latent-url.ts';
import { faceSearch } from './state.ts';
import { currentFace, type FacesStudio } from './studio.ts';

/** Browsers refuse replaceState called hundreds of times a second; a slider drag would be that. */
const ADDRESS_INTERVAL_MS = 250;

export function shareUrl(s: FacesStudio): string {
  if (!s.manifest || s.base.length === 0) return '';
  const f = currentFace(s);
  return `${location.origin}${location.pathname}?${encodeShareQuery({ z: f.base, sliders: f.sliders, keep: f.keep === true }, s.manifest.version, s.attributes?.attributesVersion ?? undefined)}`;
}

/** The face changed: the link field follows at once, the address bar (once it is live) at most every 250 ms. */
export function updateShare(s: FacesStudio): void {
  s.el.shareLink.value = shareUrl(s);
  s.el.shareState.textContent = '';
  if (!s.addressLive || !s.manifest) return;
  const version = s.manifest.version;
  const attributesVersion = s.attributes?.attributesVersion ?? null;
  const write = () => {
    s.addressTimer = null;
    s.lastAddressWrite = performance.now();
    history.replaceState(history.state, '', `${location.pathname}${faceSearch(location.search, currentFace(s), version, attributesVersion)}${location.hash}`);
  };
  if (s.addressTimer) return;
  const wait = Math.max(0, ADDRESS_INTERVAL_MS - (performance.now() - s.lastAddressWrite));
  s.addressTimer = setTimeout(write, wait);
}

async function copyLink(s: FacesStudio): Promise<void> {
  const link = shareUrl(s);
  try {
    await navigator.clipboard.writeText(link);
    s.el.shareState.textContent = 'Link copied.';
  } catch {
    s.el.shareLink.focus();
    s.el.shareLink.select();
    s.el.shareState.textContent = 'Copying is blocked here; the link is selected, copy it with Ctrl+C or ⌘C.';
  }
}

export function bindShare(s: FacesStudio): void {
  const { el } = s;
  el.copy.disabled = false;
  el.copy.addEventListener('click', () => void copyLink(s));
  el.shareLink.addEventListener('focus', () => el.shareLink.select());
  if (typeof navigator.share === 'function') {
    el.nativeShare.hidden = false;
    el.nativeShare.addEventListener('click', () => {
      navigator.share({ title: 'A face from Latent Atelier', url: shareUrl(s) }).catch((e: Error) => {
        if (e.name !== 'AbortError') el.shareState.textContent = `Sharing failed (${e.message}); copy the link instead.`;
      });
    });
  }
}
