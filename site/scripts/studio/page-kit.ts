/** Small pieces every studio page uses: element lookup, a settle-later promise, the next frame, an error's words. */

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

/** Resolves on the next animation frame. */
export function nextFrame(): Promise<void> {
  return new Promise((r) => requestAnimationFrame(() => r()));
}

/** "the model could not…" → "The model could not…", for a message that starts a sentence. */
export function capitalise(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

/** What went wrong, in words: an Error's message, or the thrown value as text. */
export function errorMessage(e: unknown): string {
  return (e as Error | null)?.message ?? String(e);
}

/** "score-rec" → "scoreRec": an element's key in a page's element table, from its id. */
export type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

export function camelCase(id: string): string {
  return id.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A lookup of several elements of one kind by id, keyed by the id in camelCase (`['map-points']` → `{ mapPoints }`). */
function lookupOf<T extends HTMLElement>() {
  return <const Ids extends readonly string[]>(ids: Ids): { [K in Ids[number] as CamelCase<K>]: T } =>
    Object.fromEntries(ids.map((id) => [camelCase(id), byId<T>(id)])) as { [K in Ids[number] as CamelCase<K>]: T };
}

export const elementsById = lookupOf<HTMLElement>();
export const buttonsById = lookupOf<HTMLButtonElement>();
export const canvasesById = lookupOf<HTMLCanvasElement>();
export const inputsById = lookupOf<HTMLInputElement>();
export const outputsById = lookupOf<HTMLOutputElement>();
export const selectsById = lookupOf<HTMLSelectElement>();
