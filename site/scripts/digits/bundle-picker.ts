/**
 * "Open a bundle file (.tar)…": a model downloaded from /digits/train (or any
 * bundle packed with tar) opened in the explorer. The file is unpacked and
 * checked here, kept in this browser as "opened", and the page reloads with
 * `?bundle=local:opened`, so the model loads the way a trained one does and
 * a reload keeps it. A file that is not such a bundle is told in the notice,
 * and the model on show stays.
 */
import { unpackTar, type TarEntry } from '../../../lib/tar.ts';
import { checkBundleEntries } from '../engine/bundle-entries.ts';
import { saveLocalBundle } from '../engine/local-bundles.ts';
import { capitalise, errorMessage } from '../studio/page-kit.ts';
import { bundleSearch, planeProblem } from './bundle-choice.ts';
import type { DigitsStudio } from './studio.ts';

/** The name an opened file is kept under. */
export const OPENED = 'opened';

/** The bundle inside a .tar's bytes, checked for this studio; throws a sentence naming the file. */
export function readBundleTar(bytes: Uint8Array, fileName: string): TarEntry[] {
  const where = `the file ${fileName}`;
  const { entries, manifest } = checkBundleEntries(unpackTar(bytes, where), where);
  const flat = planeProblem(manifest, `the model in ${where}`);
  if (flat) throw new Error(flat);
  return entries;
}

function refuse(s: DigitsStudio, file: File, text: string): void {
  s.shell.showNotice({ kind: 'error', title: `${file.name} could not be opened`, text: `${text} The model on show stays.` });
}

async function openFile(s: DigitsStudio, file: File): Promise<void> {
  let entries: TarEntry[];
  try {
    entries = readBundleTar(new Uint8Array(await file.arrayBuffer()), file.name);
  } catch (e) {
    refuse(s, file, `${capitalise(errorMessage(e))}. Choose a .tar saved by the training page's Download button, or a bundle folder packed with tar.`);
    return;
  }
  try {
    await saveLocalBundle(OPENED, entries);
  } catch (e) {
    refuse(s, file, `${capitalise(errorMessage(e))}.`);
    return;
  }
  location.assign(`${location.pathname}${bundleSearch(location.search, `local:${OPENED}`)}`);
}

export function bindBundlePicker(s: DigitsStudio): void {
  const input = s.el.bundleFile;
  input.disabled = false;
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    // Cleared, so choosing the same file again (after fixing it) opens it again.
    input.value = '';
    if (file) void openFile(s, file);
  });
}
