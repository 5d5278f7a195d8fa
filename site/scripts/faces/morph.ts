/**
 * The morph: two ends (the current face, a random one, a recent one, or one
 * from a pasted link), the path between them (slerp or lerp), and the player
 * that decodes positions along it, scrubbed or looping.
 */
import { pixelContext } from '../engine/pixel-canvas.ts';
import { errorMessage } from '../studio/page-kit.ts';
import { endSourceButtons, morphPathRadios, type End } from './elements.ts';
import { currentShownZ, track } from './face.ts';
import { newSettledBase } from './generate.ts';
import { morphPoint, tAtPhase } from './morph-player.ts';
import { renderRecent, thumbFor } from './recent.ts';
import { addLatent, canonicalSliders, keptLinkNotice, readFacesArrival, type Face, type FacesArrival, type FacesModel } from './state.ts';
import { currentEntry, currentSliders, describeSliders, entryLabel, mixFaceOf, type Endpoint, type FacesStudio } from './studio.ts';

export type EndpointSource = 'current' | 'random' | { serial: number } | { link: string };

/** "58", or "4.2" when slow enough for the decimal to matter. */
export function formatFps(fps: number): string {
  return fps >= 10 ? fps.toFixed(0) : fps.toFixed(1);
}

/** The morph slider's spoken value at t. */
export function morphValueText(t: number): string {
  return `${Math.round((1 - t) * 100)}% face A, ${Math.round(t * 100)}% face B`;
}

/** A pasted link as an end of the morph: the face it holds, or the sentence that says why it holds none. */
export function readEndpointLink(
  link: string,
  href: string,
  model: FacesModel,
): { ok: true; arrival: Extract<FacesArrival, { face: Face }> } | { ok: false; message: string } {
  let search: string;
  try {
    search = new URL(link.trim(), href).search;
  } catch {
    return { ok: false, message: 'That is not a link. Paste a share link from this studio (it contains “?z=”).' };
  }
  const arrival = readFacesArrival(search, model);
  if (arrival.kind === 'none') return { ok: false, message: 'That link holds no face: a share link from this studio contains “?z=”.' };
  if (arrival.kind === 'invalid') return { ok: false, message: arrival.message };
  return { ok: true, arrival };
}

/** Decodes the point at t between the ends into the morph canvas. */
export async function renderMorph(s: FacesStudio, t: number): Promise<void> {
  const { el, player, endpoints } = s;
  if (!s.shell.decoder || !s.morphImage || !endpoints.a || !endpoints.b) return;
  await s.shell.decodeRgba(morphPoint(endpoints.a.z, endpoints.b.z, t, s.path), s.morphImage.data);
  s.morphCtx.putImageData(s.morphImage, 0, 0);
  if (document.activeElement !== el.morphT || player.isPlaying) el.morphT.value = String(t);
  el.morphTOut.value = t.toFixed(2);
  el.morphT.setAttribute('aria-valuetext', morphValueText(t));
  const fps = player.fps;
  if (player.isPlaying && Number.isFinite(fps)) el.morphStats.textContent = `${formatFps(fps)} frames per second`;
  s.shell.updateStatus();
}

/** Runs n frames of the loop back to back through the same decode-and-draw path as playing; resolves with the milliseconds taken. */
export async function morphFrames(s: FacesStudio, n: number): Promise<number> {
  s.player.pause();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await renderMorph(s, tAtPhase((2 * i) / 120));
  return performance.now() - t0;
}

async function setEndpoint(s: FacesStudio, end: End, endpoint: Endpoint): Promise<void> {
  const x = s.el.ends[end];
  s.endpoints[end] = endpoint;
  x.label.textContent = endpoint.label;
  x.canvas.setAttribute('aria-label', `Face ${end.toUpperCase()}: ${endpoint.label}`);
  const image = new ImageData(s.manifest!.image.width, s.manifest!.image.height);
  await s.shell.decodeRgba(endpoint.z, image.data);
  pixelContext(x.canvas).putImageData(image, 0, 0);
  s.player.refresh();
}

/** An end that joined the recent faces: its preview becomes the entry's thumbnail. */
async function setKeptEndpoint(s: FacesStudio, end: End, face: Face, z: Float32Array, label: (serial: number) => string): Promise<void> {
  const entry = s.recent.add(face);
  renderRecent(s);
  await setEndpoint(s, end, { z, label: label(entry.serial) });
  thumbFor(s, entry.serial).getContext('2d')!.drawImage(s.el.ends[end].canvas, 0, 0);
}

async function endpointFromLink(s: FacesStudio, end: End, link: string): Promise<void> {
  const x = s.el.ends[end];
  const m = s.manifest!;
  const read = readEndpointLink(link, location.href, { version: m.version, latentDim: m.latentDim, attributeNames: s.attributes ? s.order : null });
  if (!read.ok) {
    x.error.textContent = read.message;
    return;
  }
  const { face } = read.arrival;
  const sliders = canonicalSliders(face.sliders, s.order);
  const v = sliders.length ? await s.mix!.vector(sliders, s.keep, mixFaceOf(s, face.base, sliders)) : new Float32Array(face.base.length);
  await setKeptEndpoint(s, end, { base: face.base, sliders }, addLatent(face.base, v), (serial) => `Face ${serial} (from a link)`);
  x.form.hidden = true;
  x.linkToggle.setAttribute('aria-expanded', 'false');
  x.input.value = '';
  const kept = keptLinkNotice(read.arrival);
  if (kept) x.error.textContent = kept.text;
}

/** `keep`: a random end joins the recent faces (and takes a number) only when the visitor asked for it, not the one drawn at start-up. */
async function chooseEndpoint(s: FacesStudio, end: End, source: EndpointSource, keep = true): Promise<void> {
  if (!s.manifest) return;
  s.el.ends[end].error.textContent = '';
  if (source === 'current') {
    const steer = describeSliders(currentSliders(s));
    await setEndpoint(s, end, { z: await currentShownZ(s), label: `Face ${currentEntry(s)?.serial ?? ''}${steer ? `, ${steer}` : ''}` });
  } else if (source === 'random') {
    const base = await newSettledBase(s, s.manifest.latentDim);
    if (!keep) return setEndpoint(s, end, { z: base, label: 'A random face' });
    await setKeptEndpoint(s, end, { base, sliders: [] }, base, (serial) => `Face ${serial} (random)`);
  } else if ('serial' in source) {
    const entry = s.recent.find(source.serial);
    if (!entry) return;
    const v = entry.sliders.length ? await s.mix!.vector(entry.sliders, s.keep, mixFaceOf(s, entry.base, entry.sliders)) : new Float32Array(entry.base.length);
    await setEndpoint(s, end, { z: addLatent(entry.base, v), label: entryLabel(entry) });
  } else {
    await endpointFromLink(s, end, source.link);
  }
}

function runEndpointChoice(s: FacesStudio, end: End, source: EndpointSource): void {
  void track(
    s,
    chooseEndpoint(s, end, source).catch((e: unknown) => {
      s.el.ends[end].error.textContent = `Could not set face ${end.toUpperCase()}: ${errorMessage(e)}.`;
    }),
  );
}

function setPlaying(s: FacesStudio, on: boolean): void {
  const { player, el } = s;
  const wasPlaying = player.isPlaying;
  if (on) player.play();
  else player.pause();
  el.morphPlay.setAttribute('aria-pressed', String(on));
  el.morphPlay.textContent = on ? 'Pause' : 'Play';
  if (wasPlaying && !on && Number.isFinite(player.fps)) el.morphStats.textContent = `${formatFps(player.fps)} frames per second while playing`;
}

function bindEnd(s: FacesStudio, end: End): void {
  const x = s.el.ends[end];
  for (const button of endSourceButtons(end)) {
    button.disabled = false;
    button.addEventListener('click', () => runEndpointChoice(s, end, button.dataset.source as 'current' | 'random'));
  }
  x.recent.disabled = false;
  x.recent.addEventListener('change', () => {
    const serial = Number(x.recent.value);
    if (serial) runEndpointChoice(s, end, { serial });
  });
  x.linkToggle.disabled = false;
  x.linkToggle.addEventListener('click', () => {
    const open = x.form.hidden;
    x.form.hidden = !open;
    x.linkToggle.setAttribute('aria-expanded', String(open));
    if (open) x.input.focus();
  });
  x.form.addEventListener('submit', (e) => {
    e.preventDefault();
    runEndpointChoice(s, end, { link: x.input.value });
  });
}

function bindMorph(s: FacesStudio): void {
  const { el, player } = s;
  bindEnd(s, 'a');
  bindEnd(s, 'b');
  el.morphT.disabled = false;
  el.morphT.addEventListener('input', () => {
    setPlaying(s, false);
    player.seek(Number(el.morphT.value));
  });
  el.morphPlay.disabled = false;
  el.morphPlay.addEventListener('click', () => setPlaying(s, !player.isPlaying));
  for (const radio of morphPathRadios()) {
    radio.disabled = false;
    radio.addEventListener('change', () => {
      if (!radio.checked) return;
      s.path = radio.value === 'lerp' ? 'lerp' : 'slerp';
      player.refresh();
    });
  }
  el.morphDuration.disabled = false;
  el.morphDuration.addEventListener('change', () => player.setDuration(Number(el.morphDuration.value)));
}

/** The morph's controls work from now on; its first ends are the face on screen (A) and a random face not kept in the recent faces (B). */
export function startMorph(s: FacesStudio): void {
  bindMorph(s);
  void track(
    s,
    (async () => {
      await chooseEndpoint(s, 'a', 'current');
      await chooseEndpoint(s, 'b', 'random', false);
    })().catch((e: unknown) => {
      s.el.ends.b.error.textContent = `The morph could not start: ${errorMessage(e)}.`;
    }),
  );
}
