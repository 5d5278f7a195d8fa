import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CELEBA_ATTRIBUTES, cropBox, loadCelebA } from '../../training/data/celeba.ts';
import { mulberry32 } from '../../training/data/split.ts';

const tmp = mkdtempSync(join(tmpdir(), 'celeba-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const N = 30;
const name = (i: number): string => `${String(i + 1).padStart(6, '0')}.jpg`;
/** Partition of image i: 7 of every 10 train, 1 validation, 2 test. */
const partitionOf = (i: number): number => (i % 10 < 7 ? 0 : i % 10 === 7 ? 1 : 2);
const grey = (i: number): number => 40 + 6 * i;
const RED_ROWS = 30;

function attributeRows(n: number): number[][] {
  const rand = mulberry32(11);
  return Array.from({ length: n }, () => CELEBA_ATTRIBUTES.map(() => (rand() < 0.4 ? 1 : -1)));
}

/** A 178x218 JPEG: the top 30 rows red (to see where the crop starts), the rest one grey level. */
function jpeg(level: number): Promise<Buffer> {
  const px = Buffer.alloc(178 * 218 * 3);
  for (let y = 0; y < 218; y++) {
    for (let x = 0; x < 178; x++) {
      const i = (y * 178 + x) * 3;
      if (y < RED_ROWS) px.set([230, 20, 20], i); else px.set([level, level, level], i);
    }
  }
  return sharp(px, { raw: { width: 178, height: 218, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
}

/** CelebA's exact text: count, names, then "000001.jpg -1  1 ..." rows; CRLF line ends as some copies have. */
function attrText(rows: number[][], eol = '\r\n'): string {
  const body = rows.map((r, i) => `${name(i)} ${r.map((v) => (v > 0 ? ' 1' : '-1')).join(' ')}`);
  return [String(rows.length), CELEBA_ATTRIBUTES.join(' ') + ' ', ...body].join(eol) + eol;
}

async function writeFixture(dir: string, n = N): Promise<number[][]> {
  mkdirSync(join(dir, 'img_align_celeba'), { recursive: true });
  for (let i = 0; i < n; i++) writeFileSync(join(dir, 'img_align_celeba', name(i)), await jpeg(grey(i)));
  const rows = attributeRows(n);
  writeFileSync(join(dir, 'list_attr_celeba.txt'), attrText(rows));
  writeFileSync(join(dir, 'list_eval_partition.txt'), Array.from({ length: n }, (_, i) => `${name(i)} ${partitionOf(i)}\r\n`).join(''));
  return rows;
}

function sink(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({ write(chunk, _enc, done) { chunks.push(String(chunk)); done(); } });
  return Object.assign(w, { text: () => chunks.join('') });
}

const good = join(tmp, 'good');
let rows: number[][] = [];
beforeAll(async () => { rows = await writeFixture(good); });

/** Indices (0-based rows) of a partition, in file order. */
const rowsIn = (p: number, n = N): number[] => Array.from({ length: n }, (_, i) => i).filter((i) => partitionOf(i) === p);

describe('loadCelebA on a folder in CelebA layout', () => {
  it('maps partitions to splits and keeps the attributes of each image', async () => {
    const ds = await loadCelebA(good, { size: [64, 64], cacheDir: join(tmp, 'cache'), log: null });
    expect(ds.image).toEqual({ height: 64, width: 64, channels: 3 });
    expect(ds.attributeNames).toEqual([...CELEBA_ATTRIBUTES]);
    expect([ds.train.count, ds.val.count, ds.test.count]).toEqual([21, 3, 6]);
    for (const [split, p] of [[ds.train, 0], [ds.val, 1], [ds.test, 2]] as const) {
      expect(Array.from(split.rows)).toEqual(rowsIn(p));
      split.rows.forEach((r, k) => expect(Array.from(split.attributes.subarray(k * 40, (k + 1) * 40))).toEqual(rows[r]));
    }
  });

  it('crops below the red band and reads the right image for any index', async () => {
    const ds = await loadCelebA(good, { size: [64, 64], cacheDir: join(tmp, 'cache'), log: null });
    const picks = [5, 0, 20, 5];
    const x = ds.train.read(picks);
    expect(x.length).toBe(picks.length * 64 * 64 * 3);
    picks.forEach((idx, k) => {
      const level = grey(ds.train.rows[idx]!) / 255;
      const centre = k * 12288 + (32 * 64 + 32) * 3;
      expect(Math.abs(x[centre]! - level)).toBeLessThan(0.02);
      // Row 0 of the 64x64 output starts at source row 30: no red left.
      const topLeft = k * 12288 + 3 * 32;
      expect(x[topLeft]! - x[topLeft + 1]!).toBeLessThan(0.1);
    });
    expect(() => ds.train.read([21])).toThrow(RangeError);
    expect(() => ds.test.read([-1])).toThrow(RangeError);
  });

  it('streams every image once per epoch, in a seeded order, from several shards', async () => {
    const ds = await loadCelebA(good, { size: [64, 64], cacheDir: join(tmp, 'cache-small'), shardSize: 4, log: null });
    const epoch = (seed: number, skip = 0): number[][] => Array.from(ds.train.batches(5, seed, skip), (b) => Array.from(b.indices));
    const a = epoch(1);
    expect(a.map((b) => b.length)).toEqual([5, 5, 5, 5, 1]);
    expect(a.flat().sort((p, q) => p - q)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(epoch(1)).toEqual(a);
    expect(epoch(2)).not.toEqual(a);
    expect(epoch(1, 2)).toEqual(a.slice(2));
    for (const b of ds.train.batches(8, 3)) expect(Buffer.from(b.x.buffer).equals(Buffer.from(ds.train.read(b.indices).buffer))).toBe(true);
    expect(ds.train.head(7).count).toBe(7);
    expect(Array.from(ds.train.head(7).batches(100, 1), (b) => b.size)).toEqual([7]);
  });

  it('honours limit by taking the first training images', async () => {
    const ds = await loadCelebA(good, { size: [64, 64], cacheDir: join(tmp, 'cache'), limit: 4, log: null });
    expect(Array.from(ds.train.rows)).toEqual(rowsIn(0).slice(0, 4));
    expect(ds.test.count).toBe(6);
  });

  it('makes 128x128 and FIDLE-style 192x160 (h x w) images, cropping to the target aspect', async () => {
    const square = await loadCelebA(good, { size: [128, 128], cacheDir: join(tmp, 'cache'), log: null });
    expect(square.test.read([0]).length).toBe(128 * 128 * 3);
    const tall = await loadCelebA(good, { size: [192, 160], cacheDir: join(tmp, 'cache'), log: null });
    expect(tall.image).toEqual({ height: 192, width: 160, channels: 3 });
    const x = tall.train.read([0]);
    const px = (y: number, xx: number): number[] => Array.from(x.subarray((y * 160 + xx) * 3, (y * 160 + xx) * 3 + 3));
    // 178x214 taken from row 4: rows 4..29 are red, about 23 output rows.
    expect(px(10, 80)[0]! - px(10, 80)[1]!).toBeGreaterThan(0.7);
    expect(Math.abs(px(100, 80)[0]! - grey(0) / 255)).toBeLessThan(0.02);
    expect(cropBox(178, 218, 192, 160)).toEqual({ left: 0, top: 4, width: 178, height: 214 });
    expect(cropBox(178, 218, 64, 64)).toEqual({ left: 0, top: 30, width: 178, height: 178 });
  });

  it('crops tighter around the face with crop, in a cache of its own', async () => {
    expect(cropBox(178, 218, 64, 64, 140)).toEqual({ left: 19, top: 49, width: 140, height: 140 });
    expect(cropBox(178, 218, 192, 160, 140)).toEqual({ left: 19, top: 35, width: 140, height: 168 });
    expect(cropBox(178, 218, 64, 64, 500)).toEqual(cropBox(178, 218, 64, 64));
    const cacheDir = join(tmp, 'cache-crop');
    // 192x160: the widest box starts at source row 4 and shows the red band (rows 0-29) at the top;
    // the 140 px box starts at row 35, below it.
    const wide = await loadCelebA(good, { size: [192, 160], cacheDir, log: null });
    const tight = await loadCelebA(good, { size: [192, 160], cacheDir, log: null, crop: 140 });
    expect(wide.crop).toBe(0);
    expect(tight.crop).toBe(140);
    expect(tight.rebuilt).toBe(true);
    expect(tight.cachePath).not.toBe(wide.cachePath);
    expect(Array.from(tight.train.rows)).toEqual(Array.from(wide.train.rows));
    const redness = (x: Float32Array): number => x[(5 * 160 + 80) * 3]! - x[(5 * 160 + 80) * 3 + 1]!;
    expect(redness(wide.train.read([0]))).toBeGreaterThan(0.7);
    expect(Math.abs(redness(tight.train.read([0])))).toBeLessThan(0.05);
    await expect(loadCelebA(good, { size: [64, 64], cacheDir, log: null, crop: -3 })).rejects.toThrow(/crop must be a whole number of source pixels/);
  });

  it('rebuilds a stale cache when an image or the annotations change', async () => {
    const dir = join(tmp, 'stale');
    await writeFixture(dir, 10);
    const cacheDir = join(tmp, 'cache-stale');
    const first = await loadCelebA(dir, { size: [32, 32], cacheDir, log: null });
    expect(first.rebuilt).toBe(true);
    expect((await loadCelebA(dir, { size: [32, 32], cacheDir, log: null })).rebuilt).toBe(false);

    writeFileSync(join(dir, 'img_align_celeba', name(0)), await jpeg(250));
    const log = sink();
    const second = await loadCelebA(dir, { size: [32, 32], cacheDir, log });
    expect(second.rebuilt).toBe(true);
    expect(log.text()).toMatch(/stale/);
    expect(second.train.read([0])[(16 * 32 + 16) * 3]!).toBeCloseTo(250 / 255, 1);

    const text = readFileSync(join(dir, 'list_attr_celeba.txt'), 'utf8');
    writeFileSync(join(dir, 'list_attr_celeba.txt'), text.replace(`${name(0)} ${rows[0]![0]! > 0 ? ' 1' : '-1'}`, `${name(0)} ${rows[0]![0]! > 0 ? '-1' : ' 1'}`));
    const third = await loadCelebA(dir, { size: [32, 32], cacheDir, log: null });
    expect(third.rebuilt).toBe(true);
    expect(third.train.attributes[0]).toBe(-rows[0]![0]!);
  });
});

describe('unreadable images', () => {
  it('are skipped, counted and reported, and the other images keep their attributes', async () => {
    const dir = join(tmp, 'corrupt');
    const fixtureRows = await writeFixture(dir, 10);
    const img = (i: number): string => join(dir, 'img_align_celeba', name(i));
    writeFileSync(img(1), Buffer.from('this is not a jpeg at all'));
    writeFileSync(img(2), readFileSync(img(2)).subarray(0, 600));
    unlinkSync(img(4));
    const log = sink();
    const ds = await loadCelebA(dir, { size: [32, 32], cacheDir: join(tmp, 'cache'), log });
    expect(ds.skipped.map((s) => s.file).sort()).toEqual([name(1), name(2), name(4)]);
    expect(ds.train.count).toBe(4);
    expect(Array.from(ds.train.rows)).toEqual([0, 3, 5, 6]);
    ds.train.rows.forEach((r, k) => expect(Array.from(ds.train.attributes.subarray(k * 40, (k + 1) * 40))).toEqual(fixtureRows[r]));
    expect(log.text()).toMatch(/skipped 3 unreadable image/);
    expect(log.text()).toContain(name(1));

    // The report repeats when the cache is reused, so it is never silent.
    const again = sink();
    expect((await loadCelebA(dir, { size: [32, 32], cacheDir: join(tmp, 'cache'), log: again })).rebuilt).toBe(false);
    expect(again.text()).toMatch(/skipped 3 unreadable image/);
  });
});

describe('malformed folders and files give a message naming the file and the fix', () => {
  /** A fixture with one thing broken, and the load of it (not yet started). */
  async function broken(tag: string, edit: (dir: string) => void): Promise<() => Promise<unknown>> {
    const dir = join(tmp, tag);
    await writeFixture(dir, 6);
    edit(dir);
    return () => loadCelebA(dir, { size: [32, 32], cacheDir: join(tmp, 'cache'), log: null });
  }
  const attrPath = (dir: string): string => join(dir, 'list_attr_celeba.txt');
  const editLines = (dir: string, f: (lines: string[]) => void): void => {
    const lines = readFileSync(attrPath(dir), 'utf8').split('\r\n');
    f(lines);
    writeFileSync(attrPath(dir), lines.join('\r\n'));
  };

  it('a row with a missing value names the file and line', async () => {
    await expect((await broken('short-row', (d) => editLines(d, (l) => { l[4] = l[4]!.replace(/ +-?1$/, ''); })))())
      .rejects.toThrow(/list_attr_celeba\.txt line 5: expected a file name and 40 values, found 39/);
  });

  it('a value other than 1 / -1 names the line and the attribute', async () => {
    await expect((await broken('bad-value', (d) => editLines(d, (l) => { l[2] = l[2]!.replace(/(-1| 1)$/, ' 0'); })))())
      .rejects.toThrow(/line 3: value "0" for Young is not 1 or -1/);
  });

  it('a count on line 1 that disagrees with the rows', async () => {
    await expect((await broken('count', (d) => editLines(d, (l) => { l[0] = '7'; })))())
      .rejects.toThrow(/line 1 says 7 images but the file has 6 rows/);
    await expect((await broken('count-low', (d) => editLines(d, (l) => { l[0] = '5'; })))())
      .rejects.toThrow(/line 1 says 5 images but there are more rows/);
  });

  it('a missing annotation file, image folder or dataset folder is named', async () => {
    await expect((await broken('no-partition', (d) => unlinkSync(join(d, 'list_eval_partition.txt'))))())
      .rejects.toThrow(/list_eval_partition\.txt is missing; expected CelebA's layout/);
    await expect((await broken('no-attr', (d) => unlinkSync(attrPath(d))))())
      .rejects.toThrow(/list_attr_celeba\.txt is missing/);
    await expect((await broken('no-images', (d) => rmSync(join(d, 'img_align_celeba'), { recursive: true })))())
      .rejects.toThrow(/img_align_celeba\/ is missing/);
    await expect(loadCelebA(join(tmp, 'nowhere'), { log: null })).rejects.toThrow(/CelebA folder .*nowhere not found/);
  });

  it('a partition file that disagrees with the attribute file', async () => {
    await expect((await broken('partition-extra', (d) => writeFileSync(join(d, 'list_eval_partition.txt'), '000001.jpg 0\n999999.jpg 2\n')))())
      .rejects.toThrow(/list_eval_partition\.txt line 2: 999999\.jpg is not listed in list_attr_celeba\.txt/);
    await expect((await broken('partition-bad', (d) => writeFileSync(join(d, 'list_eval_partition.txt'), '000001.jpg 7\n')))())
      .rejects.toThrow(/list_eval_partition\.txt line 1: expected "<file name> <0\|1\|2>"/);
  });

  it('a failed build leaves no partial cache behind', async () => {
    const dir = join(tmp, 'all-corrupt');
    await writeFixture(dir, 10);
    for (let i = 0; i < 10; i++) writeFileSync(join(dir, 'img_align_celeba', name(i)), 'not a jpeg');
    await expect(loadCelebA(dir, { size: [32, 32], cacheDir: join(tmp, 'cache'), log: null }))
      .rejects.toThrow(/no train image in .*img_align_celeba could be decoded \(10 skipped/);
    const leftovers = readdirSync(join(tmp, 'cache'), { recursive: true }).map(String).filter((p) => p.includes('.partial-'));
    expect(leftovers).toEqual([]);
  });
});
