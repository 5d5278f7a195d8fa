/**
 * A notice box (role="alert"): a title, a sentence, and on some pages a button
 * that acts on it ("Try again", "Another fresh face"). The markup is
 * `#id` holding `#id-title`, `#id-text` and, where the page has one, `#id-action`.
 */
import { byId, capitalise } from './page-kit.ts';

export interface NoticeElements {
  box: HTMLElement;
  title: HTMLElement;
  text: HTMLElement;
  /** Absent where the page's notice has no button. */
  action: HTMLButtonElement | null;
}

export interface NoticeAction {
  label: string;
  run: () => void;
}

export interface Notice {
  kind: 'warning' | 'error';
  title: string;
  text: string;
  action?: NoticeAction | null;
}

export function noticeElements(id: string): NoticeElements {
  return {
    box: byId(id),
    title: byId(`${id}-title`),
    text: byId(`${id}-text`),
    action: document.getElementById(`${id}-action`) as HTMLButtonElement | null,
  };
}

export function showNotice(el: NoticeElements, notice: Notice): void {
  const action = notice.action ?? null;
  el.box.classList.toggle('notice--error', notice.kind === 'error');
  el.title.textContent = notice.title;
  el.text.textContent = notice.text;
  if (el.action) {
    el.action.hidden = !action;
    el.action.textContent = action?.label ?? '';
    el.action.onclick = action ? () => action.run() : null;
  }
  el.box.hidden = false;
}

export function hideNotice(el: NoticeElements): void {
  el.box.hidden = true;
}

/**
 * What a studio that could not start says: the problem as a sentence, then
 * what to do. A retry is offered while nothing is running yet; once the
 * decoder runs, only a reload starts cleanly.
 */
export function startFailureNotice(modelId: string, message: string, canRetry: boolean): Pick<Notice, 'title' | 'text'> {
  return {
    title: `The ${modelId} studio could not start`,
    text: `${capitalise(message)}.${canRetry ? ' Check the connection and try again.' : ' Reload the page to try again.'}`,
  };
}
