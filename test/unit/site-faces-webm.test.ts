import { describe, expect, it } from 'vitest';
import { ebmlSize, muxWebm } from '../../site/scripts/faces/webm.ts';

interface Node {
  id: number;
  size: number;
  start: number;
  children?: Node[];
}

const MASTERS = new Set([0x1a45dfa3, 0x18538067, 0x1549a966, 0x1654ae6b, 0xae, 0xe0, 0x1f43b675]);

/** A small EBML reader: enough to check the muxer's tree. */
function parse(buf: Uint8Array, from = 0, to = buf.length): Node[] {
  const nodes: Node[] = [];
  let i = from;
  const vint = (keepMarker: boolean) => {
    const first = buf[i]!;
    let len = 1;
    while (!(first & (0x80 >> (len - 1)))) len++;
    let v = keepMarker ? first : first & (0xff >> len);
    for (let k = 1; k < len; k++) v = v * 256 + buf[i + k]!;
    i += len;
    return v;
  };
  while (i < to) {
    const id = vint(true);
    const size = vint(false);
    const node: Node = { id, size, start: i };
    if (MASTERS.has(id)) node.children = parse(buf, i, i + size);
    nodes.push(node);
    i += size;
  }
  expect(i).toBe(to);
  return nodes;
}

function find(nodes: Node[], id: number): Node {
  const n = nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no element ${id.toString(16)}`);
  return n;
}

function uintAt(buf: Uint8Array, n: Node): number {
  let v = 0;
  for (let k = 0; k < n.size; k++) v = v * 256 + buf[n.start + k]!;
  return v;
}

describe('ebmlSize', () => {
  it('writes the shortest variable-size integer, never the reserved all-ones', () => {
    expect(Array.from(ebmlSize(0))).toEqual([0x80]);
    expect(Array.from(ebmlSize(126))).toEqual([0xfe]);
    expect(Array.from(ebmlSize(127))).toEqual([0x40, 0x7f]);
    expect(Array.from(ebmlSize(300))).toEqual([0x41, 0x2c]);
    expect(() => ebmlSize(-1)).toThrow(RangeError);
  });
});

describe('muxWebm', () => {
  const frames = Array.from({ length: 30 }, (_, i) => ({ timeMs: i * 40, key: i % 25 === 0, data: Uint8Array.of(i, 1, 2, 3) }));

  it('writes a WebM header, one video track and every frame as a block in order', () => {
    const buf = muxWebm({ codec: 'V_VP9', width: 256, height: 256, durationMs: 1200 }, frames);
    const top = parse(buf);
    expect(top.map((n) => n.id)).toEqual([0x1a45dfa3, 0x18538067]);
    const docType = find(top[0]!.children!, 0x4282);
    expect(new TextDecoder().decode(buf.subarray(docType.start, docType.start + docType.size))).toBe('webm');

    const segment = top[1]!.children!;
    const info = find(segment, 0x1549a966).children!;
    expect(uintAt(buf, find(info, 0x2ad7b1))).toBe(1_000_000);
    const duration = find(info, 0x4489);
    expect(new DataView(buf.buffer, buf.byteOffset + duration.start, 8).getFloat64(0)).toBe(1200);

    const entry = find(find(segment, 0x1654ae6b).children!, 0xae).children!;
    const codec = find(entry, 0x86);
    expect(new TextDecoder().decode(buf.subarray(codec.start, codec.start + codec.size))).toBe('V_VP9');
    const video = find(entry, 0xe0).children!;
    expect([uintAt(buf, find(video, 0xb0)), uintAt(buf, find(video, 0xba))]).toEqual([256, 256]);

    const cluster = find(segment, 0x1f43b675).children!;
    expect(uintAt(buf, find(cluster, 0xe7))).toBe(0);
    const blocks = cluster.filter((n) => n.id === 0xa3);
    expect(blocks).toHaveLength(30);
    blocks.forEach((b, i) => {
      const view = new DataView(buf.buffer, buf.byteOffset + b.start, b.size);
      expect(view.getUint8(0)).toBe(0x81);
      expect(view.getInt16(1)).toBe(i * 40);
      expect(view.getUint8(3)).toBe(i % 25 === 0 ? 0x80 : 0);
      expect(view.getUint8(4)).toBe(i);
    });
  });

  it('starts a new cluster before block timecodes overflow 16 bits', () => {
    const long = [0, 20_000, 40_000, 50_000].map((timeMs, i) => ({ timeMs, key: i === 0, data: Uint8Array.of(i) }));
    const segment = parse(muxWebm({ codec: 'V_VP8', width: 64, height: 64, durationMs: 50_040 }, long))[1]!.children!;
    const clusters = segment.filter((n) => n.id === 0x1f43b675);
    expect(clusters).toHaveLength(2);
    expect(clusters.map((c) => c.children!.filter((n) => n.id === 0xa3).length)).toEqual([2, 2]);
  });

  it('refuses a video that does not start with a key frame', () => {
    expect(() => muxWebm({ codec: 'V_VP8', width: 64, height: 64, durationMs: 40 }, [{ timeMs: 0, key: false, data: Uint8Array.of(1) }])).toThrow(/key frame/);
  });
});
