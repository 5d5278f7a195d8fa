/**
 * Bundles kept in this browser (IndexedDB): a model trained on /digits/train,
 * or a .tar a visitor opened, saved by name so that `?bundle=local:<name>`
 * opens it in any tab of this origin. A bundle is stored as its files
 * (lib/tar.ts's entries), exactly as a download would hold them.
 */
import type { TarEntry } from '../../../lib/tar.ts';

const DB_NAME = 'latent-atelier';
const STORE = 'bundles';

interface StoredBundle {
  name: string;
  savedAt: string;
  entries: TarEntry[];
}

function unavailable(why: string): Error {
  return new Error(`this browser cannot keep models here (${why}); private browsing blocks it in some browsers — download the model as a .tar instead, or use a normal window`);
}

/** The request's result once it succeeds; its error (or the transaction's) as a sentence otherwise. */
function settle<T>(request: IDBRequest<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`${what} failed (${request.error?.name ?? 'unknown error'})`));
  });
}

function openDb(): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') return Promise.reject(unavailable('IndexedDB is not available'));
  let request: IDBOpenDBRequest;
  try {
    request = indexedDB.open(DB_NAME, 1);
  } catch (e) {
    return Promise.reject(unavailable(`IndexedDB refused to open: ${(e as Error).message}`));
  }
  request.onupgradeneeded = () => {
    if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE, { keyPath: 'name' });
  };
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(unavailable(`IndexedDB would not open: ${request.error?.name ?? 'unknown error'}`));
  });
}

/** Runs one request on the store, resolving once its transaction is done; closes the database after it. */
async function withStore<T>(mode: IDBTransactionMode, what: string, run: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    const tx = db.transaction(STORE, mode);
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = tx.onabort = () => {
        const name = tx.error?.name ?? 'aborted';
        reject(new Error(`${what} failed (${name === 'QuotaExceededError' ? 'the browser has no room left for it' : name})`));
      };
    });
    done.catch(() => {});
    const result = await settle(run(tx.objectStore(STORE)), what);
    await done;
    return result;
  } finally {
    db.close();
  }
}

function isEntry(e: unknown): e is TarEntry {
  const o = e as Partial<TarEntry> | null;
  return typeof o?.path === 'string' && o.bytes instanceof Uint8Array;
}

/** Saves (or replaces) the bundle `name`. Rejects with a sentence when this browser cannot keep it. */
export async function saveLocalBundle(name: string, entries: readonly TarEntry[]): Promise<void> {
  const record: StoredBundle = { name, savedAt: new Date().toISOString(), entries: entries.map(({ path, bytes }) => ({ path, bytes })) };
  await withStore('readwrite', `saving the model "${name}" in this browser`, (store) => store.put(record));
}

/** The files of the bundle saved as `name`, or null when this browser holds none by that name. */
export async function loadLocalBundle(name: string): Promise<TarEntry[] | null> {
  const record = (await withStore('readonly', `reading the model "${name}" saved in this browser`, (store) => store.get(name))) as Partial<StoredBundle> | undefined;
  if (record === undefined) return null;
  if (!Array.isArray(record.entries) || !record.entries.every(isEntry)) throw new Error(`the model "${name}" saved in this browser is damaged; save it again`);
  return record.entries;
}
