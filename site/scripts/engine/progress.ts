/**
 * Download progress in bytes over several files. The expected sizes come from
 * the manifest's `files` table; a file the manifest does not size counts with
 * its Content-Length once its response arrives. Bytes are counted as the body
 * is read (after any HTTP decompression), which is what the manifest sizes mean.
 */

export interface ProgressSnapshot {
  loaded: number;
  /** Best known total; grows if a file turns out larger than announced. */
  total: number;
  /** 0..1, or null while nothing is known about the total. */
  fraction: number | null;
}

export class ByteProgress {
  private readonly expected = new Map<string, number>();
  private readonly received = new Map<string, number>();

  constructor(private readonly onChange: (s: ProgressSnapshot) => void = () => {}) {}

  /** Declares a file to come, with its size when known. */
  expect(name: string, bytes: number | undefined): void {
    if (bytes !== undefined && Number.isFinite(bytes) && bytes >= 0) this.expected.set(name, bytes);
    else if (!this.expected.has(name)) this.expected.set(name, 0);
    this.emit();
  }

  /** A response started; its Content-Length (if any) fills in a size the manifest did not give. */
  started(name: string, contentLength: number | null): void {
    if (contentLength !== null && Number.isFinite(contentLength) && contentLength > 0 && !this.expected.get(name)) {
      this.expected.set(name, contentLength);
    }
    if (!this.received.has(name)) this.received.set(name, 0);
    this.emit();
  }

  add(name: string, bytes: number): void {
    this.received.set(name, (this.received.get(name) ?? 0) + bytes);
    this.emit();
  }

  /** The file is complete; what was read is its true size. */
  finished(name: string): void {
    this.expected.set(name, this.received.get(name) ?? 0);
    this.emit();
  }

  snapshot(): ProgressSnapshot {
    let loaded = 0;
    let total = 0;
    const names = new Set([...this.expected.keys(), ...this.received.keys()]);
    for (const name of names) {
      const got = this.received.get(name) ?? 0;
      loaded += got;
      total += Math.max(got, this.expected.get(name) ?? 0);
    }
    return { loaded, total, fraction: total > 0 ? Math.min(1, loaded / total) : null };
  }

  private emit(): void {
    this.onChange(this.snapshot());
  }
}

/** "0 B", "812 B", "397 kB", "1.4 MB" (decimal units, as download sizes are usually given). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ['kB', 'MB', 'GB'];
  let v = bytes / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

/** Path of `url` relative to `base` when inside it (for naming files as the manifest does), else the URL's path. */
export function fileKey(url: string, base: string): string {
  const u = new URL(url, base);
  const b = new URL(base);
  const dir = b.pathname.slice(0, b.pathname.lastIndexOf('/') + 1);
  return u.origin === b.origin && u.pathname.startsWith(dir) ? u.pathname.slice(dir.length) : u.pathname;
}
