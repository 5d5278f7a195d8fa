/**
 * The face on screen: base + mix(sliders), decoded as soon as the mix is
 * known (at once from the cache, else when the API answers), with its caption.
 */
import { updateShare } from './share.ts';
import { addLatent, mixQuery } from './state.ts';
import { currentFace, faceDescription, mixFaceOf, type FacesStudio, type ShowJob } from './studio.ts';

/** Decodes a job into the face canvas (and the current thumbnail, when it is that face's base). */
export async function showFace(s: FacesStudio, job: ShowJob): Promise<void> {
  if (!s.shell.decoder || !s.faceImage) return;
  await s.shell.decodeRgba(job.z, s.faceImage.data);
  s.faceCtx.putImageData(s.faceImage, 0, 0);
  s.shown = job;
  const thumb = s.thumbs.get(s.currentSerial);
  if (thumb && job.base === s.base) thumb.getContext('2d')!.drawImage(s.el.face, 0, 0);
  describeFace(s);
  s.shell.updateStatus();
}

/** Shows base + mix(sliders): at once when the mix is known, else once the API answers. */
export function requestShow(s: FacesStudio): Promise<void> {
  if (!s.shell.decoder) return Promise.resolve();
  const face = currentFace(s);
  const key = mixQuery(face.sliders, s.keep, mixFaceOf(s, s.base, face.sliders));
  const v = s.mix?.cached(key) ?? (key === '' ? new Float32Array(s.base.length) : undefined);
  s.recent.update(s.currentSerial, face.sliders);
  updateShare(s);
  if (v) return s.faceScheduler.request({ z: addLatent(s.base, v), base: s.base, key });
  s.mix?.live(face.sliders, s.keep, mixFaceOf(s, s.base, face.sliders));
  return Promise.resolve();
}

/** The face on screen, as it is steered: its z once the mix is in. */
export async function currentShownZ(s: FacesStudio): Promise<Float32Array> {
  const face = currentFace(s);
  const key = mixQuery(face.sliders, s.keep, mixFaceOf(s, s.base, face.sliders));
  if (s.shown && s.shown.base === s.base && s.shown.key === key) return s.shown.z;
  const v = key === '' ? new Float32Array(s.base.length) : await s.mix!.vector(face.sliders, s.keep, mixFaceOf(s, s.base, face.sliders));
  return addLatent(s.base, v);
}

export function describeFace(s: FacesStudio): void {
  const d = faceDescription(s);
  s.el.faceName.textContent = d.name;
  s.el.faceSteer.textContent = d.steer;
  s.el.face.setAttribute('aria-label', d.ariaLabel);
}

/** Keeps a piece of async work visible to settled(). */
export function track<T>(s: FacesStudio, work: Promise<T>): Promise<T> {
  s.pendingWork++;
  return work.finally(() => s.pendingWork--);
}
