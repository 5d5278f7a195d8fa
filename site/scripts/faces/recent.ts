/**
 * The recent faces: a strip of thumbnails, newest first, that the visitor
 * can go back to (each keeps its steering), and the switch to another face
 * that every way of getting one (new, restored, arrived by link) goes through.
 */
import { describeFace, requestShow } from './face.ts';
import type { Face } from './state.ts';
import { syncSliderInputs } from './steer.ts';
import { adoptFace, describeSliders, type FacesStudio } from './studio.ts';

/** The thumbnail canvas of a recent face, made on first use. */
export function thumbFor(s: FacesStudio, serial: number): HTMLCanvasElement {
  let c = s.thumbs.get(serial);
  if (!c) {
    c = document.createElement('canvas');
    c.width = s.manifest!.image.width;
    c.height = s.manifest!.image.height;
    c.className = 'faces-thumb';
    c.setAttribute('aria-hidden', 'true');
    s.thumbs.set(serial, c);
  }
  return c;
}

function recentItem(s: FacesStudio, serial: number, sliders: Face['sliders']): HTMLLIElement {
  const li = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'faces-recent__item';
  const isCurrent = serial === s.currentSerial;
  if (isCurrent) button.setAttribute('aria-current', 'true');
  const steer = describeSliders(sliders);
  button.setAttribute('aria-label', `Face ${serial}${steer ? `, steered: ${steer}` : ''}${isCurrent ? ' (showing)' : ''}`);
  const tag = document.createElement('span');
  tag.className = 'faces-recent__tag';
  tag.textContent = String(serial);
  tag.setAttribute('aria-hidden', 'true');
  button.append(thumbFor(s, serial), tag);
  button.addEventListener('click', () => {
    const e = s.recent.find(serial);
    if (!e || e.serial === s.currentSerial) return;
    void setFace(s, { base: e.base, sliders: e.sliders }, 'restore');
  });
  li.append(button);
  return li;
}

/** Redraws the strip and the morph's recent-face pickers; thumbnails of faces that left the strip are let go. */
export function renderRecent(s: FacesStudio): void {
  const live = new Set(s.recent.entries.map((e) => e.serial));
  for (const serial of s.thumbs.keys()) if (!live.has(serial)) s.thumbs.delete(serial);
  s.el.recent.replaceChildren(...s.recent.entries.map((entry) => recentItem(s, entry.serial, entry.sliders)));
  for (const end of ['a', 'b'] as const) {
    const select = s.el.ends[end].recent;
    select.replaceChildren(
      new Option('Recent face…', ''),
      ...s.recent.entries.map((e) => new Option(`Face ${e.serial}${e.serial === s.currentSerial ? ' (showing)' : ''}`, String(e.serial))),
    );
    select.value = '';
  }
}

/** Shows `face`: a new draw, one restored from the strip, or the one a link arrived with (which leaves the address as it came). */
export function setFace(s: FacesStudio, face: Face, how: 'new' | 'restore' | 'arrival'): Promise<void> {
  const entry = adoptFace(s, face);
  syncSliderInputs(s);
  renderRecent(s);
  if (how !== 'arrival') {
    s.addressLive = true;
    s.el.linkNotice.box.hidden = true;
  }
  if (how === 'new') s.el.faceLive.textContent = `New face: Face ${entry.serial}.`;
  if (how === 'restore') s.el.faceLive.textContent = `Back to Face ${entry.serial}.`;
  describeFace(s);
  return requestShow(s);
}
