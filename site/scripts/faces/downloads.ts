/**
 * Taking a face home: the face as a PNG at a chosen size, and the morph as a
 * short looping video (WebM encoded with WebCodecs where the browser can,
 * else recorded from a canvas with MediaRecorder).
 */
import { formatBytes } from '../engine/progress.ts';
import { toRgba } from '../engine/rgba.ts';
import { browserVideoFormat, canvasBlob, drawScaled, exportSizes, faceFileName, recordFrames, saveBlob } from './export.ts';
import { track } from './face.ts';
import { loopPositions, morphPoint } from './morph-player.ts';
import { currentFace, type FacesStudio } from './studio.ts';
import { canEncodeWebm, encodeWebm } from './webm.ts';

/** The morph video's frame rate, and the longest leg (A to B) it records. */
const VIDEO_FPS = 25;
const VIDEO_MAX_LEG_MS = 4000;

/** The PNG size picked first: the first at least 256 pixels wide, else the decoder's own. */
export function defaultPngSize(width: number): number {
  return exportSizes(width).find((s) => s >= 256) ?? width;
}

/** The morph video's size: the PNG size picked, at most 512 (256 when none is). */
export function videoSize(pngSize: number): number {
  return Math.min(512, pngSize || 256);
}

export function fillPngSizes(s: FacesStudio, width: number): void {
  s.el.pngSize.replaceChildren(...exportSizes(width).map((n) => new Option(`${n} × ${n}`, String(n))));
  s.el.pngSize.value = String(defaultPngSize(width));
}

async function downloadPng(s: FacesStudio): Promise<void> {
  const size = Number(s.el.pngSize.value);
  const blob = await canvasBlob(drawScaled(s.el.face, size));
  saveBlob(blob, faceFileName(s.modelId, s.manifest!.version, currentFace(s), size));
  s.el.downloadState.textContent = `Saved a ${size} × ${size} PNG.`;
}

/** The label of the video the morph button makes, or null when this browser can make none. */
function videoLabel(): string | null {
  if (canEncodeWebm()) return 'WebM';
  return browserVideoFormat()?.label ?? null;
}

/** The loop A → B → A decoded in one batch, one image per frame. */
async function morphLoopFrames(s: FacesStudio, positions: readonly number[]): Promise<ImageData[]> {
  const { manifest, endpoints } = s;
  const decoder = s.shell.decoder!;
  const { width: w, height: h, channels } = manifest!.image;
  const dim = manifest!.latentDim;
  const points = new Float32Array(positions.length * dim);
  positions.forEach((t, i) => points.set(morphPoint(endpoints.a!.z, endpoints.b!.z, t, s.path), i * dim));
  const values = await decoder.decode(points);
  return positions.map((_, i) => {
    const img = new ImageData(w, h);
    toRgba(values, channels as 1 | 3, img.data, i * decoder.pixelsPerImage, w * h);
    return img;
  });
}

/** WebM from WebCodecs, or null when this browser cannot encode it (or the encoder failed). */
async function encodeFrames(frames: readonly ImageData[], size: number): Promise<Blob | null> {
  if (!canEncodeWebm()) return null;
  const small = document.createElement('canvas');
  small.width = frames[0]!.width;
  small.height = frames[0]!.height;
  const smallCtx = small.getContext('2d')!;
  try {
    return await encodeWebm(frames.length, size, VIDEO_FPS, (i, canvas) => {
      smallCtx.putImageData(frames[i]!, 0, 0);
      const ctx = canvas.getContext('2d')!;
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(small, 0, 0, size, size);
    });
  } catch (e) {
    console.warn('WebCodecs could not encode the morph; recording it instead', e);
    return null;
  }
}

async function downloadMorph(s: FacesStudio): Promise<void> {
  const { el, manifest } = s;
  if (!s.endpoints.a || !s.endpoints.b || !s.shell.decoder || !manifest) return;
  const positions = loopPositions(Math.min(VIDEO_MAX_LEG_MS, s.player.duration), VIDEO_FPS);
  const seconds = (positions.length / VIDEO_FPS).toFixed(1);
  el.downloadMorph.disabled = true;
  try {
    el.downloadState.textContent = `Decoding ${positions.length} frames…`;
    const frames = await morphLoopFrames(s, positions);
    const size = videoSize(Number(el.pngSize.value));
    const name = `${s.modelId}-${manifest.version}-morph-${size}px`;
    if (canEncodeWebm()) el.downloadState.textContent = `Encoding ${positions.length} frames…`;
    let blob = await encodeFrames(frames, size);
    let label = 'WebM';
    let extension = 'webm';
    if (!blob) {
      const format = browserVideoFormat();
      if (!format) throw new Error('this browser can neither encode nor record video');
      el.downloadState.textContent = `Recording ${seconds} s of video…`;
      blob = await recordFrames(frames, size, VIDEO_FPS, format, el.downloadRow);
      label = format.label;
      extension = format.extension;
    }
    saveBlob(blob, `${name}.${extension}`);
    el.downloadState.textContent = `Saved a ${seconds}-second ${label} loop (${formatBytes(blob.size)}).`;
  } finally {
    el.downloadMorph.disabled = false;
  }
}

export function bindDownloads(s: FacesStudio): void {
  const { el } = s;
  el.pngSize.disabled = false;
  el.downloadPng.disabled = false;
  el.downloadPng.addEventListener('click', () => {
    downloadPng(s).catch((e: Error) => (el.downloadState.textContent = `The PNG could not be made: ${e.message}.`));
  });
  const video = videoLabel();
  if (video) {
    el.downloadMorph.hidden = false;
    el.downloadMorph.textContent = `Download morph (${video})`;
    el.downloadMorph.addEventListener('click', () => {
      void track(s, downloadMorph(s).catch((e: Error) => (el.downloadState.textContent = `The video could not be made: ${e.message}.`)));
    });
  }
}
