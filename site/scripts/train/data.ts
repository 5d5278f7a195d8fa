/**
 * The training digits: one binary file the page downloads with a byte
 * progress bar and hands, untouched, to the worker (which reads it).
 */
import { countingFetch } from '../engine/bundle-loader.ts';
import { ByteProgress, type ProgressSnapshot } from '../engine/progress.ts';

export const DATA_URL = '/data/mnist-10k.bin';

/** The file's bytes; an error names the file and says what to do. */
export async function fetchTrainingData(onProgress: (s: ProgressSnapshot) => void, url: string = DATA_URL): Promise<ArrayBuffer> {
  const absolute = new URL(url, location.href).href;
  const progress = new ByteProgress(onProgress);
  const name = absolute.slice(absolute.lastIndexOf('/') + 1);
  progress.expect(name, undefined);
  let res: Response;
  try {
    res = await countingFetch(progress, absolute)(absolute);
  } catch (e) {
    throw new Error(`could not download the training digits ${url} (${(e as Error).message}); check the connection and try again`);
  }
  if (!res.ok) throw new Error(`the training digits ${url} answered HTTP ${res.status}`);
  return res.arrayBuffer();
}
