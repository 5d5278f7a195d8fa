/**
 * Taking a face home: a PNG at a chosen size, and the morph as a short video
 * recorded from a canvas with MediaRecorder where the browser has one.
 */
import { toHalfBits } from '../../../lib/float16.ts';
import type { Face } from './state.ts';

/** Sizes offered for the PNG: the decoder's own resolution and its doublings, up to `max`. */
export function exportSizes(width: number, max = 1024): number[] {
  const sizes: number[] = [];
  for (let s = width; s <= Math.max(width, max); s *= 2) sizes.push(s);
  return sizes;
}

/** FNV-1a over the face's float16 bits and sliders: a short, stable tag for file names. */
export function faceTag(face: Face): string {
  let h = 0x811c9dc5;
  const mix = (byte: number) => {
    h ^= byte & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (const v of face.base) {
    const bits = toHalfBits(v);
    mix(bits);
    mix(bits >>> 8);
  }
  for (const s of face.sliders) for (const c of `${s.name}:${s.value};`) mix(c.charCodeAt(0));
  return h.toString(16).padStart(8, '0');
}

export function faceFileName(modelId: string, version: string, face: Face, size: number): string {
  return `${modelId}-${version}-${faceTag(face)}-${size}px.png`;
}

export interface VideoFormat {
  mimeType: string;
  extension: 'webm' | 'mp4';
  label: string;
}

const VIDEO_CANDIDATES: VideoFormat[] = [
  { mimeType: 'video/webm;codecs=vp9', extension: 'webm', label: 'WebM' },
  { mimeType: 'video/webm;codecs=vp8', extension: 'webm', label: 'WebM' },
  { mimeType: 'video/webm', extension: 'webm', label: 'WebM' },
  { mimeType: 'video/mp4;codecs=avc1', extension: 'mp4', label: 'MP4' },
  { mimeType: 'video/mp4', extension: 'mp4', label: 'MP4' },
];

/** The first video format the browser can record a canvas to, or null (then the button stays hidden). */
export function videoFormat(env: { isTypeSupported?: (type: string) => boolean; canCapture: boolean }): VideoFormat | null {
  if (!env.canCapture || !env.isTypeSupported) return null;
  return VIDEO_CANDIDATES.find((f) => env.isTypeSupported!(f.mimeType)) ?? null;
}

export function browserVideoFormat(): VideoFormat | null {
  const canCapture = typeof HTMLCanvasElement !== 'undefined' && typeof HTMLCanvasElement.prototype.captureStream === 'function';
  const recorder = typeof MediaRecorder !== 'undefined' ? MediaRecorder : undefined;
  return videoFormat({ canCapture, isTypeSupported: recorder ? (t) => recorder.isTypeSupported(t) : undefined });
}

/** Draws an image scaled to size × size, smoothly: a 64-pixel face blown up pixel by pixel looks like a mosaic. */
export function drawScaled(source: CanvasImageSource, size: number, target: HTMLCanvasElement = document.createElement('canvas')): HTMLCanvasElement {
  target.width = size;
  target.height = size;
  const ctx = target.getContext('2d')!;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, 0, 0, size, size);
  return target;
}

export function canvasBlob(canvas: HTMLCanvasElement, type = 'image/png'): Promise<Blob> {
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser could not encode the image'))), type));
}

/** Hands a blob to the browser as a download. */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Records frames (same-sized images) to a video of size × size at `fps`.
 * Frames are drawn on a canvas and captured one by one in real time, so a
 * loop of two seconds takes two seconds to record. The canvas is shown in
 * `host` meanwhile (as a preview): Chromium captures nothing from a canvas
 * that is not in the document.
 */
export async function recordFrames(frames: readonly ImageData[], size: number, fps: number, format: VideoFormat, host: HTMLElement): Promise<Blob> {
  if (frames.length === 0) throw new Error('no frames to record');
  const small = document.createElement('canvas');
  small.width = frames[0]!.width;
  small.height = frames[0]!.height;
  const smallCtx = small.getContext('2d')!;
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const draw = (f: ImageData) => {
    smallCtx.putImageData(f, 0, 0);
    drawScaled(small, size, canvas);
  };
  canvas.className = 'faces-recording';
  canvas.setAttribute('aria-hidden', 'true');
  host.append(canvas);
  draw(frames[0]!);
  const stream = canvas.captureStream(0);
  const track = stream.getVideoTracks()[0] as (MediaStreamTrack & { requestFrame?: () => void }) | undefined;
  if (!track) throw new Error('the browser gave no video track for the canvas');
  const recorder = new MediaRecorder(stream, { mimeType: format.mimeType, videoBitsPerSecond: Math.min(8e6, 60 * size * size) });
  const chunks: Blob[] = [];
  recorder.ondataavailable = (e) => {
    if (e.data.size > 0) chunks.push(e.data);
  };
  const stopped = new Promise<void>((resolve, reject) => {
    recorder.onstop = () => resolve();
    recorder.onerror = (e) => reject(new Error(`recording failed (${(e as Event & { error?: Error }).error?.message ?? 'unknown error'})`));
  });
  recorder.start();
  const interval = 1000 / fps;
  const t0 = performance.now();
  try {
    for (let i = 0; i < frames.length; i++) {
      draw(frames[i]!);
      track.requestFrame?.();
      const wait = t0 + (i + 1) * interval - performance.now();
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    }
  } finally {
    recorder.stop();
    track.stop();
  }
  try {
    await stopped;
  } finally {
    canvas.remove();
  }
  return new Blob(chunks, { type: format.mimeType.split(';')[0] });
}
