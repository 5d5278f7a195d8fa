/** The faces page's elements, looked up once: every id the studio's scripts use is here. */
import { noticeElements } from '../studio/notice.ts';
import { buttonsById, byId, canvasesById, elementsById, inputsById, outputsById, selectsById } from '../studio/page-kit.ts';
import { shellElements } from '../studio/shell.ts';

export type End = 'a' | 'b';

/** One end of the morph: its preview, label, recent-face picker and paste-a-link form. */
function endElements(end: End) {
  return {
    canvas: byId<HTMLCanvasElement>(`morph-${end}`),
    label: byId(`morph-${end}-label`),
    recent: byId<HTMLSelectElement>(`morph-${end}-recent`),
    linkToggle: byId<HTMLButtonElement>(`morph-${end}-link`),
    form: byId<HTMLFormElement>(`morph-${end}-form`),
    input: byId<HTMLInputElement>(`morph-${end}-input`),
    error: byId(`morph-${end}-error`),
  };
}

export type EndElements = ReturnType<typeof endElements>;

/** Keyed by id in camelCase (#face-name is faceName), but for the few named otherwise. */
export function facesElements() {
  return {
    shell: shellElements({ status: 'status', statusText: 'status-text', notice: 'notice', loader: 'loader' }),
    linkNotice: noticeElements('link-notice'),
    ...canvasesById(['face', 'morph']),
    ...elementsById(['face-name', 'face-steer', 'face-live', 'temperature-help', 'settle-help', 'steer-status', 'steer-effects', 'share-state', 'download-state', 'download-row', 'morph-stats']),
    ...buttonsById(['generate', 'steer-reset', 'steer-retry', 'native-share', 'download-png', 'download-morph', 'morph-play']),
    ...inputsById(['temperature', 'share-link', 'morph-t', 'steer-keep']),
    ...outputsById(['temperature-out', 'morph-t-out']),
    ...selectsById(['png-size', 'morph-duration', 'settle']),
    recent: byId<HTMLUListElement>('recent'),
    sliders: byId<HTMLUListElement>('sliders'),
    copy: byId<HTMLButtonElement>('copy-link'),
    facts: byId('model-facts'),
    ends: { a: endElements('a'), b: endElements('b') },
  };
}

export type FacesElements = ReturnType<typeof facesElements>;

/** The morph's path choice (radio buttons named "morph-path"). */
export function morphPathRadios(): HTMLInputElement[] {
  return [...document.querySelectorAll<HTMLInputElement>('input[name="morph-path"]')];
}

/** The buttons that set an end of the morph from a source ("current", "random"). */
export function endSourceButtons(end: End): HTMLButtonElement[] {
  return [...document.querySelectorAll<HTMLButtonElement>(`[data-end="${end}"][data-source]`)];
}
