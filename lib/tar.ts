/**
 * Tar archives (POSIX ustar) of a bundle's files: the one file a "Download"
 * button saves, which `tar -xf` unpacks into a bundle folder, and the reader
 * for such a file when a visitor opens it again. Only regular files are
 * written; paths are relative, '/'-separated and never climb out of the
 * folder. The reader also takes what GNU tar and bsdtar write for the same
 * files (a "./" prefix, directory entries, pax and GNU long-name records) and
 * refuses what it could not write back: links, devices, unsafe or overlong paths.
 */

export interface TarEntry {
  path: string;
  bytes: Uint8Array;
}

const BLOCK = 512;
/** The longest path a ustar header holds: a 155-byte prefix, '/', a 100-byte name. */
const MAX_PATH_BYTES = 256;
const NAME = { at: 0, len: 100 };
const PREFIX = { at: 345, len: 155 };
const SIZE = { at: 124, len: 12 };
const CHECKSUM = { at: 148, len: 8 };
const TYPE_AT = 156;
const MAGIC_AT = 257;

const utf8 = new TextEncoder();

/** Why `path` cannot be a file inside a bundle folder, or null when it can. */
function unsafePath(path: string): string | null {
  if (path === '') return 'an empty path';
  if (path.startsWith('/')) return 'an absolute path';
  if (path.includes('\\')) return 'a path with a backslash (tar paths use "/")';
  if (path.includes('\0')) return 'a path with a NUL character';
  const parts = path.split('/');
  if (parts.includes('..')) return 'a path that climbs out of the folder with ".."';
  if (parts.some((p) => p === '' || p === '.')) return 'a path with an empty or "." part';
  return null;
}

function fail(where: string, problem: string): never {
  throw new Error(`${where} ${problem}`);
}

// ---- writing

function putBytes(h: Uint8Array, at: number, len: number, bytes: Uint8Array): void {
  if (bytes.length > len) throw new Error(`tar: ${bytes.length} bytes do not fit a ${len}-byte field`);
  h.set(bytes, at);
}

/** An octal number in `len - 1` digits and a NUL, as ustar writes them. */
function putOctal(h: Uint8Array, at: number, len: number, value: number): void {
  const digits = value.toString(8).padStart(len - 1, '0');
  putBytes(h, at, len - 1, utf8.encode(digits));
}

/** Splits a path too long for the name field at a '/' into ustar's prefix and name. */
function splitPath(path: string): { prefix: Uint8Array; name: Uint8Array } {
  const bytes = utf8.encode(path);
  if (bytes.length <= NAME.len) return { prefix: new Uint8Array(0), name: bytes };
  for (let i = Math.min(PREFIX.len, bytes.length - 2); i > 0; i--) {
    if (bytes[i] === 0x2f && bytes.length - i - 1 <= NAME.len) return { prefix: bytes.subarray(0, i), name: bytes.subarray(i + 1) };
  }
  throw new Error(`tar: the path ${JSON.stringify(path)} is too long for a tar header (at most ${NAME.len} bytes after the last "/" that keeps the folder part within ${PREFIX.len})`);
}

function header(path: string, size: number, mtime: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const { prefix, name } = splitPath(path);
  putBytes(h, NAME.at, NAME.len, name);
  putOctal(h, 100, 8, 0o644);
  putOctal(h, 108, 8, 0);
  putOctal(h, 116, 8, 0);
  putOctal(h, SIZE.at, SIZE.len, size);
  putOctal(h, 136, 12, mtime);
  h[TYPE_AT] = 0x30;
  putBytes(h, MAGIC_AT, 8, utf8.encode('ustar\u000000'));
  putOctal(h, 329, 8, 0);
  putOctal(h, 337, 8, 0);
  putBytes(h, PREFIX.at, PREFIX.len, prefix);
  h.fill(0x20, CHECKSUM.at, CHECKSUM.at + CHECKSUM.len);
  // Six digits, a NUL and a space: the checksum's traditional spelling.
  putOctal(h, CHECKSUM.at, 7, h.reduce((a, b) => a + b, 0));
  h[CHECKSUM.at + 6] = 0;
  return h;
}

function padded(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

/** One ustar archive of regular files, ending with the two zero blocks tar expects. Throws on an unsafe, repeated or overlong path. */
export function packTar(entries: readonly TarEntry[]): Uint8Array {
  const seen = new Set<string>();
  for (const { path, bytes } of entries) {
    const problem = unsafePath(path);
    if (problem) throw new Error(`tar: ${JSON.stringify(path)} is ${problem}; bundle files need relative paths inside the folder`);
    if (seen.has(path)) throw new Error(`tar: ${path} is listed twice`);
    if (bytes.length > 0o77777777777) throw new Error(`tar: ${path} is larger than a ustar header can describe`);
    seen.add(path);
  }
  const mtime = Math.floor(Date.now() / 1000);
  const out = new Uint8Array(entries.reduce((n, e) => n + BLOCK + padded(e.bytes.length), 2 * BLOCK));
  let at = 0;
  for (const { path, bytes } of entries) {
    out.set(header(path, bytes.length, mtime), at);
    out.set(bytes, at + BLOCK);
    at += BLOCK + padded(bytes.length);
  }
  return out;
}

// ---- reading

function text(h: Uint8Array, at: number, len: number, where: string): string {
  const field = h.subarray(at, at + len);
  const end = field.indexOf(0);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(end < 0 ? field : field.subarray(0, end));
  } catch {
    return fail(where, 'names a file in something other than UTF-8');
  }
}

function octal(h: Uint8Array, at: number, len: number, where: string): number {
  if ((h[at]! & 0x80) !== 0) fail(where, 'holds a file too large to open here');
  const digits = String.fromCharCode(...h.subarray(at, at + len)).replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (!/^[0-7]*$/.test(digits)) fail(where, 'is not a tar file (a header holds a number that is not octal)');
  return digits === '' ? 0 : parseInt(digits, 8);
}

/** Checks one header's "ustar" mark and checksum (unsigned, or signed as some old tars summed it). */
function checkHeader(h: Uint8Array, offset: number, where: string): void {
  const magic = String.fromCharCode(...h.subarray(MAGIC_AT, MAGIC_AT + 5));
  if (magic !== 'ustar') fail(where, offset === 0 ? 'is not a tar file (its first block has no "ustar" mark)' : `is damaged: the block at byte ${offset} should be a tar header`);
  const stored = octal(h, CHECKSUM.at, CHECKSUM.len, where);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= CHECKSUM.at && i < CHECKSUM.at + CHECKSUM.len ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored !== unsigned && stored !== signed) fail(where, offset === 0 ? 'is not a tar file (its first header fails its checksum)' : `is damaged: the header at byte ${offset} fails its checksum`);
}

/** The path of a header: ustar's prefix and name, or what a pax or GNU long-name record said before it. */
function headerPath(h: Uint8Array, where: string, longName: string | null): string {
  if (longName !== null) return longName;
  const name = text(h, NAME.at, NAME.len, where);
  const prefix = text(h, PREFIX.at, PREFIX.len, where);
  return prefix ? `${prefix}/${name}` : name;
}

/** The records of a pax extended header ("<length> <key>=<value>\n" each). */
function paxRecords(data: Uint8Array, where: string): Map<string, string> {
  const records = new Map<string, string>();
  const body = text(data, 0, data.length, where);
  for (const line of body.split('\n')) {
    const m = /^\d+ ([^=]+)=(.*)$/s.exec(line);
    if (m) records.set(m[1]!, m[2]!);
  }
  return records;
}

/** "./decoder/model.json" → "decoder/model.json"; throws for a path no bundle can hold. */
function entryPath(raw: string, where: string): string {
  let path = raw;
  while (path.startsWith('./')) path = path.slice(2);
  if (utf8.encode(path).length > MAX_PATH_BYTES) fail(where, `holds a file name longer than ${MAX_PATH_BYTES} bytes (${JSON.stringify(path.slice(0, 40))}…)`);
  const problem = unsafePath(path);
  if (problem) fail(where, `holds ${problem} (${JSON.stringify(raw)}), which is unsafe to unpack`);
  return path;
}

interface Pending {
  path: string | null;
  size: number | null;
}

/**
 * The regular files of a tar archive, in order, with their paths relative to
 * the archive's top. Directories are skipped. Throws an Error naming `where`
 * when the bytes are not a tar file, are cut short, or hold a link, a device,
 * an unsafe path or an overlong name.
 */
export function unpackTar(bytes: Uint8Array, where = 'the tar file'): TarEntry[] {
  if (bytes.length === 0) fail(where, 'is empty');
  const out: TarEntry[] = [];
  let pending: Pending = { path: null, size: null };
  for (let offset = 0; offset < bytes.length; ) {
    if (offset + BLOCK > bytes.length) fail(where, `is truncated: it ends inside a header at byte ${offset}`);
    const h = bytes.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) break;
    checkHeader(h, offset, where);
    const size = pending.size ?? octal(h, SIZE.at, SIZE.len, where);
    const start = offset + BLOCK;
    const raw = headerPath(h, where, pending.path);
    if (start + size > bytes.length) fail(where, `is truncated: ${raw} needs ${size} bytes but only ${bytes.length - start} are left`);
    const data = bytes.subarray(start, start + size);
    offset = start + padded(size);
    const type = String.fromCharCode(h[TYPE_AT]!);
    pending = { path: null, size: null };
    if (type === 'x') {
      const records = paxRecords(data, where);
      const paxSize = records.get('size');
      pending = { path: records.get('path') ?? null, size: paxSize !== undefined && /^\d+$/.test(paxSize) ? Number(paxSize) : null };
    } else if (type === 'L') {
      pending.path = text(data, 0, data.length, where);
    } else if (type === '0' || type === '\0' || type === '7') {
      out.push({ path: entryPath(raw, where), bytes: data.slice() });
    } else if (type === '1' || type === '2') {
      fail(where, `holds a link (${raw}); a bundle is plain files, so pack the files themselves`);
    } else if (type !== '5' && type !== 'g' && type !== 'K') {
      fail(where, `holds ${raw}, which is not a plain file (tar type "${type}")`);
    }
  }
  return out;
}
