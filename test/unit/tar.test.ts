import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packTar, unpackTar, type TarEntry } from '../../lib/tar.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const TAR = '/usr/bin/tar';
const work = mkdtempSync(join(tmpdir(), 'latent-atelier-tar-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const text = (s: string) => new TextEncoder().encode(s);
/** A name that needs ustar's prefix field: 121 bytes of folders, then a 94-byte file name. */
const LONG = `${'a'.repeat(60)}/${'c'.repeat(60)}/${'b'.repeat(89)}.json`;

/** The committed digits bundle's decoder, manifest and latent map, as a download holds them. */
function digitsEntries(): TarEntry[] {
  return ['manifest.json', 'decoder/model.json', 'decoder/group1-shard1of1.bin', 'latent-map.json'].map((path) => ({
    path,
    bytes: new Uint8Array(readFileSync(join(ROOT, 'public/models/digits', path))),
  }));
}

function folder(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function byPath(entries: readonly TarEntry[]): Map<string, Uint8Array> {
  return new Map(entries.map((e) => [e.path, e.bytes]));
}

/** One valid tar header for `path`, then the bytes, as packTar writes it; for corrupting by hand. */
function oneFile(path: string, bytes = text('hello')): Uint8Array {
  return packTar([{ path, bytes }]);
}

/** Rewrites a header's name field (and its checksum), for paths packTar refuses to write. */
function renamed(tar: Uint8Array, name: string, type = '0'): Uint8Array {
  const out = tar.slice();
  out.fill(0, 0, 100);
  out.set(text(name), 0);
  out[156] = type.charCodeAt(0);
  out.fill(0x20, 148, 156);
  const sum = out.subarray(0, 512).reduce((a, b) => a + b, 0);
  out.set(text(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
  return out;
}

describe('packTar and unpackTar (lib/tar.ts)', () => {
  it('round-trips files byte for byte, long, empty and non-ASCII names included', () => {
    const entries: TarEntry[] = [
      ...digitsEntries(),
      { path: LONG, bytes: new Uint8Array(513).map((_, i) => i % 251) },
      { path: 'empty.txt', bytes: new Uint8Array(0) },
      { path: 'ünïcode/côté.json', bytes: text('{"é":1}') },
    ];
    const tar = packTar(entries);
    expect(tar.length % 512).toBe(0);
    expect(Array.from(tar.subarray(tar.length - 1024)).every((b) => b === 0)).toBe(true);
    const back = unpackTar(tar, 'round.tar');
    expect(back.map((e) => e.path)).toEqual(entries.map((e) => e.path));
    for (const [i, e] of back.entries()) expect(Buffer.from(e.bytes).equals(Buffer.from(entries[i]!.bytes))).toBe(true);
    expect(unpackTar(packTar([]))).toEqual([]);
  });

  it('writes a tar GNU tar lists and unpacks into a bundle folder', () => {
    const entries = [...digitsEntries(), { path: LONG, bytes: text('long') }];
    const dir = folder('gnu-unpack');
    writeFileSync(join(dir, 'model.tar'), packTar(entries));
    const listed = execFileSync(TAR, ['-tf', 'model.tar'], { cwd: dir, encoding: 'utf8' }).trim().split('\n');
    expect(listed).toEqual(entries.map((e) => e.path));
    const out = folder('gnu-unpack/out');
    execFileSync(TAR, ['-xf', '../model.tar'], { cwd: out });
    for (const e of entries) expect(readFileSync(join(out, e.path)).equals(Buffer.from(e.bytes))).toBe(true);
    expect(execFileSync(TAR, ['-tvf', 'model.tar'], { cwd: dir, encoding: 'utf8' })).toMatch(/^-rw-r--r-- /);
  });

  it('reads what GNU tar writes, in its own format and as pax, from "." or from the folder', () => {
    const src = folder('gnu-pack/bundle');
    const entries = [...digitsEntries(), { path: LONG, bytes: text('long') }];
    for (const e of entries) {
      mkdirSync(join(src, e.path, '..'), { recursive: true });
      writeFileSync(join(src, e.path), e.bytes);
    }
    const want = byPath(entries);
    for (const format of ['gnu', 'posix', 'ustar']) {
      const file = join(work, `gnu-pack/${format}.tar`);
      execFileSync(TAR, [`--format=${format}`, '-cf', file, '.'], { cwd: src });
      const got = byPath(unpackTar(new Uint8Array(readFileSync(file)), `${format}.tar`));
      for (const [path, bytes] of want) {
        expect(Buffer.from(got.get(path)!).equals(Buffer.from(bytes)), `${format}: ${path}`).toBe(true);
      }
    }
    const nested = join(work, 'gnu-pack/nested.tar');
    execFileSync(TAR, ['-cf', nested, 'bundle'], { cwd: join(work, 'gnu-pack') });
    expect(unpackTar(new Uint8Array(readFileSync(nested))).map((e) => e.path)).toContain('bundle/decoder/model.json');
  });

  it('refuses what is not a tar file, naming it', () => {
    const png = new Uint8Array(readFileSync(join(ROOT, 'public/models/digits/samples.png')));
    expect(() => unpackTar(png, 'samples.png')).toThrow('samples.png is not a tar file (its first block has no "ustar" mark)');
    expect(() => unpackTar(new Uint8Array(0), 'x.tar')).toThrow('x.tar is empty');
    const bad = oneFile('a.txt');
    bad[0] = 0x62;
    expect(() => unpackTar(bad, 'x.tar')).toThrow('x.tar is not a tar file (its first header fails its checksum)');
    const two = packTar([{ path: 'a', bytes: text('1') }, { path: 'b', bytes: text('2') }]);
    two[1024] = 0x63;
    expect(() => unpackTar(two, 'x.tar')).toThrow('x.tar is damaged: the header at byte 1024 fails its checksum');
  });

  it('refuses a tar cut short, inside a file or inside a header', () => {
    // manifest.json (5,467 bytes) fills blocks 1 to 11; decoder/model.json's header is at byte 6144, its 4,743 bytes from 6656.
    const tar = packTar(digitsEntries());
    expect(() => unpackTar(tar.subarray(0, 8000), 'cut.tar')).toThrow('cut.tar is truncated: decoder/model.json needs 4743 bytes but only 1344 are left');
    expect(() => unpackTar(tar.subarray(0, 6144 + 100), 'cut.tar')).toThrow('cut.tar is truncated: it ends inside a header at byte 6144');
  });

  it('refuses unsafe paths, links and devices when reading', () => {
    const tar = oneFile('placeholder.txt');
    expect(() => unpackTar(renamed(tar, '/etc/passwd'), 'evil.tar')).toThrow('evil.tar holds an absolute path ("/etc/passwd"), which is unsafe to unpack');
    expect(() => unpackTar(renamed(tar, '../up.txt'), 'evil.tar')).toThrow('evil.tar holds a path that climbs out of the folder with ".." ("../up.txt"), which is unsafe to unpack');
    expect(() => unpackTar(renamed(tar, 'a/../../b'), 'evil.tar')).toThrow(/climbs out/);
    expect(() => unpackTar(renamed(tar, 'link', '2'), 'evil.tar')).toThrow('evil.tar holds a link (link); a bundle is plain files, so pack the files themselves');
    expect(() => unpackTar(renamed(tar, 'fifo', '6'), 'odd.tar')).toThrow('odd.tar holds fifo, which is not a plain file (tar type "6")');
    expect(unpackTar(renamed(tar, './a.txt'))[0]!.path).toBe('a.txt');
  });

  it('refuses links and overlong names that GNU tar writes', () => {
    const dir = folder('gnu-odd');
    writeFileSync(join(dir, 'manifest.json'), '{}');
    symlinkSync('manifest.json', join(dir, 'alias.json'));
    execFileSync(TAR, ['-cf', '../odd.tar', 'alias.json'], { cwd: dir });
    expect(() => unpackTar(new Uint8Array(readFileSync(join(work, 'odd.tar'))), 'odd.tar')).toThrow('odd.tar holds a link (alias.json)');
    const deep = `${'d'.repeat(200)}/${'e'.repeat(100)}`;
    mkdirSync(join(dir, deep), { recursive: true });
    writeFileSync(join(dir, deep, 'f.json'), '{}');
    execFileSync(TAR, ['-cf', '../deep.tar', 'd'.repeat(200)], { cwd: dir });
    expect(() => unpackTar(new Uint8Array(readFileSync(join(work, 'deep.tar'))), 'deep.tar')).toThrow(/^deep\.tar holds a file name longer than 256 bytes/);
  });

  it('refuses to pack unsafe, repeated or overlong paths', () => {
    const one = (path: string) => () => packTar([{ path, bytes: text('x') }]);
    expect(one('/abs.txt')).toThrow('tar: "/abs.txt" is an absolute path; bundle files need relative paths inside the folder');
    expect(one('a/../b')).toThrow(/climbs out of the folder/);
    expect(one('a\\b')).toThrow(/backslash/);
    expect(one('a//b')).toThrow(/empty or "." part/);
    expect(one('')).toThrow(/an empty path/);
    expect(one(`${'x'.repeat(101)}`)).toThrow(/is too long for a tar header/);
    expect(one(`${'x'.repeat(160)}/y`)).toThrow(/is too long for a tar header/);
    expect(() => packTar([{ path: 'a', bytes: text('1') }, { path: 'a', bytes: text('2') }])).toThrow('tar: a is listed twice');
  });
});
