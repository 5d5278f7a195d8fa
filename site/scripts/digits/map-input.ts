/**
 * Exploring the map: a mouse hovers and clicks, a finger or pen drags and
 * lifts, the keyboard steps with the arrows and pins with Enter. Exploring
 * decodes where the pointer is; pinning keeps the point and puts it in the address.
 */
import { stepPoint, type ArrowKey } from './map-transform.ts';
import { announce, request } from './point.ts';
import { showPinnedAddress } from './share.ts';
import { displayPoint } from './share-state.ts';
import { pinAt, type DigitsStudio, type Point } from './studio.ts';

const ARROWS = new Set(['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown']);

/** Which side of the map the floating digit goes: away from the pointer. */
export function peekSide(clientX: number, mapLeft: number, mapWidth: number): 'left' | 'right' {
  return clientX > mapLeft + mapWidth / 2 ? 'left' : 'right';
}

/**
 * On a narrow screen the decoded digit sits below the map, out of sight
 * while a finger explores: a small copy floats over the map's top corner
 * away from the pointer (the page's CSS shows it only on narrow screens).
 */
function exploring(s: DigitsStudio, on: boolean, clientX?: number): void {
  const card = s.el.mapCard;
  if (!on) {
    delete card.dataset.exploring;
    return;
  }
  card.dataset.exploring = '';
  if (clientX !== undefined) {
    const r = s.el.map.getBoundingClientRect();
    card.dataset.peekSide = peekSide(clientX, r.left, r.width);
  }
}

export function pin(s: DigitsStudio, z: Point): void {
  pinAt(s, z);
  exploring(s, false);
  showPinnedAddress(s, z);
  s.shell.hideNotice();
  s.el.copyState.textContent = '';
  announce(s, 'Pinned', z);
  request(s, z);
}

function moveCursor(s: DigitsStudio, z: Point, clientX?: number): void {
  s.cursor = z;
  exploring(s, true, clientX);
  request(s, z);
}

function leave(s: DigitsStudio): void {
  s.cursor = null;
  exploring(s, false);
  request(s, s.pinned);
}

function onKey(s: DigitsStudio, e: KeyboardEvent): void {
  if (!s.view) return;
  if (ARROWS.has(e.key)) {
    e.preventDefault();
    const z = stepPoint(s.view.extent, s.cursor ?? s.pinned, e.key as ArrowKey, e.shiftKey);
    moveCursor(s, displayPoint(z[0], z[1]));
    announce(s, 'At', s.cursor!);
  } else if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    pin(s, s.cursor ?? s.pinned);
  } else if (e.key === 'Escape') {
    leave(s);
  } else if (e.key === '0' || e.key === 'Home') {
    e.preventDefault();
    moveCursor(s, displayPoint(0, 0));
    announce(s, 'At', s.cursor!);
  }
}

function bindPointer(s: DigitsStudio): void {
  const map = s.el.map;
  const pointAt = (e: PointerEvent): Point => {
    const [a, b] = s.view!.latentAt(e.clientX, e.clientY);
    return displayPoint(a, b);
  };
  map.addEventListener('pointerdown', (e) => {
    if (!s.view || e.button !== 0) return;
    s.pressed = true;
    if (e.pointerType !== 'mouse') map.setPointerCapture(e.pointerId);
    moveCursor(s, pointAt(e), e.clientX);
  });
  map.addEventListener('pointermove', (e) => {
    if (!s.view || (e.pointerType !== 'mouse' && !s.pressed)) return;
    moveCursor(s, pointAt(e), e.clientX);
  });
  map.addEventListener('pointerup', (e) => {
    if (!s.view || !s.pressed) return;
    s.pressed = false;
    pin(s, pointAt(e));
  });
  map.addEventListener('pointercancel', () => {
    s.pressed = false;
    leave(s);
  });
  map.addEventListener('pointerleave', (e) => {
    if (e.pointerType === 'mouse' && !s.pressed) leave(s);
  });
}

export function bindMap(s: DigitsStudio): void {
  const map = s.el.map;
  bindPointer(s);
  map.addEventListener('keydown', (e) => onKey(s, e));
  map.addEventListener('blur', () => {
    if (s.cursor && !s.pressed) leave(s);
  });
  let resizeQueued = false;
  new ResizeObserver(() => {
    if (resizeQueued) return;
    resizeQueued = true;
    requestAnimationFrame(() => {
      resizeQueued = false;
      s.view?.resize();
    });
  }).observe(map);
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => s.view?.resize());
}
