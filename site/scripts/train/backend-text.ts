/**
 * How the worker chose where to train, in one or two sentences: the backend,
 * the speeds it measured on this device, what could not start or was not
 * worth timing, and why WebAssembly has one thread when the page is not
 * cross-origin isolated.
 */
import { backendLabel, type BackendName, type BackendRequest } from '../engine/backend-choice.ts';
import { capitalise } from '../studio/page-kit.ts';
import type { TrainerBackendReport } from './protocol.ts';

/** A backend named without saying where it runs (the reason that follows says). */
const BARE_NAME: Record<BackendName, string> = { webgl: 'WebGL', wasm: 'WebAssembly', cpu: 'Plain JavaScript' };

/** "420", "61", "7.5": images per second, as precise as it is worth. */
export function formatRate(imagesPerSecond: number): string {
  if (!Number.isFinite(imagesPerSecond) || imagesPerSecond < 0) return '—';
  if (imagesPerSecond >= 100) return Math.round(imagesPerSecond).toLocaleString('en');
  return imagesPerSecond >= 10 ? imagesPerSecond.toFixed(0) : imagesPerSecond.toFixed(1);
}

/** The backend's name, with its thread count where that is WebAssembly's: "WebAssembly (CPU), 2 threads". */
export function nameWithThreads(r: TrainerBackendReport, name: BackendName): string {
  const label = backendLabel(name, r.renderer);
  return name === 'wasm' ? `${label}, ${r.threads} thread${r.threads === 1 ? '' : 's'}` : label;
}

export function trainingBackendSentence(r: TrainerBackendReport, request: BackendRequest): string {
  const used = nameWithThreads(r, r.used);
  const own = r.measured.find((m) => m.name === r.used);
  const others = r.measured
    .filter((m) => m.name !== r.used)
    .sort((a, b) => b.imagesPerSecond - a.imagesPerSecond)
    .map((m) => `${backendLabel(m.name, r.renderer)}: ${formatRate(m.imagesPerSecond)} images/s`);
  const speed = own ? `: ${formatRate(own.imagesPerSecond)} images/s measured here` : '';
  const parts: string[] = [];
  if (request.forced === r.used) parts.push(`Training on ${used}, as asked in the address${speed ? ` (${speed.slice(2)})` : ''}.`);
  else if (others.length > 0) parts.push(`Training on ${used}${speed}, the fastest; ${others.join('; ')}.`);
  else parts.push(`Training on ${used}${speed}.`);
  for (const f of r.failed) parts.push(`${backendLabel(f.name, r.renderer)} is unavailable (${f.reason}).`);
  for (const s of r.skipped ?? []) parts.push(`${BARE_NAME[s.name]} was not timed. ${capitalise(s.reason).replace(/\.?$/, '.')}`);
  const wasmInPlay = r.used === 'wasm' || r.measured.some((m) => m.name === 'wasm');
  if (wasmInPlay && !r.isolated) {
    parts.push('WebAssembly runs on one thread: this page is not cross-origin isolated, which its threads need.');
  }
  if (request.problem) parts.push(request.problem);
  return parts.join(' ');
}
