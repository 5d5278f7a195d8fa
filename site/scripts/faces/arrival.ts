/**
 * A share link on arrival: the face it holds, shown first, and what the link
 * notice says about any part that could not be used. A bad point refuses the
 * link (a fresh face instead); bad slider settings are dropped or clamped,
 * and without the attribute service the face comes without its sliders.
 */
import type { BundleManifest } from '../../../lib/bundle.ts';
import { showNotice, type Notice } from '../studio/notice.ts';
import { capitalise } from '../studio/page-kit.ts';
import { generate } from './generate.ts';
import { keptLinkNotice, readFacesArrival, type Face, type FacesArrival } from './state.ts';
import { describeSliders, type FacesStudio } from './studio.ts';

/** What to do with an arrival: the face to show (null: a new one), whether the address follows it, and the notices to show, in order. */
export interface ArrivalPlan {
  face: Face | null;
  addressLive: boolean;
  notices: (Omit<Notice, 'action'> & { offerFreshFace?: boolean })[];
}

/**
 * `attributeProblem`: why the attribute list is missing, or null when it is
 * in (then the link's sliders were checked against it).
 */
export function planArrival(arrival: FacesArrival, attributesKnown: boolean, attributeProblem: string | null): ArrivalPlan {
  if (arrival.kind === 'none') return { face: null, addressLive: false, notices: [] };
  if (arrival.kind === 'invalid') {
    return {
      face: null,
      addressLive: false,
      notices: [{ kind: 'error', title: 'This link could not be opened', text: `${arrival.message} Here is a fresh random face instead.`, offerFreshFace: true }],
    };
  }
  const notices: ArrivalPlan['notices'] = [];
  const kept = keptLinkNotice(arrival);
  if (kept) notices.push({ kind: 'warning', ...kept });
  if (arrival.face.sliders.length && !attributesKnown) {
    notices.push({
      kind: 'warning',
      title: 'The sliders in this link could not be applied',
      text: `${capitalise(attributeProblem ?? 'the attribute service did not answer')}. Showing the face without its settings (${describeSliders(arrival.face.sliders)}).`,
    });
    return { face: { base: arrival.face.base, sliders: [] }, addressLive: true, notices };
  }
  return { face: arrival.face, addressLive: true, notices };
}

export function showLinkNotice(s: FacesStudio, notice: Notice): void {
  showNotice(s.el.linkNotice, notice);
}

/** What the address asks for: the face to show first (null: a new one, drawn once the sampler is ready), with any problem told to the visitor. */
export function arrivalFace(s: FacesStudio, m: BundleManifest): Face | null {
  const arrival = readFacesArrival(location.search, { version: m.version, latentDim: m.latentDim, attributeNames: s.attributes ? s.order : null, attributesVersion: s.attributes?.attributesVersion ?? null });
  const plan = planArrival(arrival, s.attributes !== null, s.attributeProblem);
  if (plan.addressLive) s.addressLive = true;
  for (const { offerFreshFace, ...notice } of plan.notices) {
    showLinkNotice(s, { ...notice, action: offerFreshFace ? { label: 'Another fresh face', run: () => generate(s) } : null });
  }
  return plan.face;
}
