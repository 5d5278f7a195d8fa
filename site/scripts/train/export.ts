/**
 * The trained model leaves the worker as bundle files (manifest.json, the
 * decoder, the latent map) in two ways: saved in this browser and opened in
 * the digits explorer, or packed into a .tar to download. Neither sends
 * anything anywhere.
 */
import { packTar, type TarEntry } from '../../../lib/tar.ts';
import { saveLocalBundle } from '../engine/local-bundles.ts';
import { formatBytes } from '../engine/progress.ts';
import { errorMessage } from '../studio/page-kit.ts';
import type { ExportedFile } from './client.ts';
import type { TrainPage } from './state.ts';

/** The name the explorer knows this browser's trained model by (/digits?bundle=local:trained). */
export const LOCAL_BUNDLE = 'trained';

export function explorerHref(name = LOCAL_BUNDLE): string {
  return `/digits?bundle=local:${encodeURIComponent(name)}`;
}

export function downloadName(step: number): string {
  return `latent-atelier-digits-${step}steps.tar`;
}

export function tarEntries(files: readonly ExportedFile[]): TarEntry[] {
  return files.map((f) => ({ path: f.path, bytes: new Uint8Array(f.bytes) }));
}

/** The bundle as it stands now, with the controls held while the worker writes it. */
async function exportNow(p: TrainPage, refresh: () => void): Promise<{ entries: TarEntry[]; step: number }> {
  if (!p.client) throw new Error('the trainer is not running');
  p.exporting = true;
  refresh();
  try {
    const files = await p.client.exportFiles();
    return { entries: tarEntries(files), step: p.step };
  } finally {
    p.exporting = false;
    refresh();
  }
}

function say(p: TrainPage, text: string, link?: { href: string; text: string }): void {
  const parts: (string | Node)[] = [text];
  if (link) {
    const a = document.createElement('a');
    a.href = link.href;
    a.target = '_blank';
    a.textContent = link.text;
    parts.push(' ', a, '.');
  }
  p.el.exportState.replaceChildren(...parts);
}

export async function exploreTrained(p: TrainPage, refresh: () => void): Promise<void> {
  say(p, 'Saving the model in this browser…');
  const { entries, step } = await exportNow(p, refresh);
  await saveLocalBundle(LOCAL_BUNDLE, entries);
  const href = explorerHref();
  // The save took a moment, so a popup blocker may no longer count this as the click's doing: then a link does it.
  const opened = window.open(href, '_blank');
  if (opened) say(p, `Opened the explorer in a new tab with the model after ${step.toLocaleString('en')} steps (kept in this browser).`);
  else say(p, `Saved the model after ${step.toLocaleString('en')} steps in this browser; the new tab was blocked:`, { href, text: 'open the explorer with it' });
}

export async function downloadTrained(p: TrainPage, refresh: () => void): Promise<void> {
  say(p, 'Packing the model…');
  const { entries, step } = await exportNow(p, refresh);
  const tar = packTar(entries);
  const name = downloadName(step);
  const url = URL.createObjectURL(new Blob([tar as Uint8Array<ArrayBuffer>], { type: 'application/x-tar' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  say(p, `Downloaded ${name}: ${entries.length} files of a model bundle, ${formatBytes(tar.byteLength)}.`);
}

export function bindExport(p: TrainPage, refresh: () => void): void {
  const run = (what: (p: TrainPage, refresh: () => void) => Promise<void>, title: string) => () => {
    what(p, refresh).catch((e: unknown) => {
      console.error(e);
      say(p, `${title}: ${errorMessage(e)}.`);
    });
  };
  p.el.explore.addEventListener('click', run(exploreTrained, 'The model could not be saved'));
  p.el.download.addEventListener('click', run(downloadTrained, 'The model could not be packed'));
}
