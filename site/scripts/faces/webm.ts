/**
 * The morph as a WebM file, frame-exact: frames are encoded with WebCodecs
 * (VideoEncoder, VP9 or VP8) as fast as the machine allows, then written into
 * a minimal WebM container here. Unlike recording a canvas in real time, no
 * frame is dropped on a busy machine and the loop closes exactly.
 *
 * WebM is Matroska: nested EBML elements, each an ID, a size and a payload.
 * One video track and one cluster hold everything (block timecodes are 16-bit
 * milliseconds relative to the cluster, so a cluster covers up to 32 s).
 */
import { concatBytes } from '../../../lib/bytes.ts';

/** An encoded frame as the muxer needs it. */
export interface WebmFrame {
  /** Milliseconds from the start. */
  timeMs: number;
  key: boolean;
  data: Uint8Array;
}

export interface WebmTrack {
  codec: 'V_VP8' | 'V_VP9';
  width: number;
  height: number;
  /** Length of the whole video in milliseconds. */
  durationMs: number;
}

const MAX_CLUSTER_MS = 32_767;

/** An EBML variable-size integer for an element's size: the shortest that fits. */
export function ebmlSize(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`cannot write element size ${n}`);
  for (let len = 1; len <= 8; len++) {
    // All-ones is reserved for "unknown size".
    if (n < 2 ** (7 * len) - 1) {
      const out = new Uint8Array(len);
      let v = n;
      for (let i = len - 1; i >= 0; i--) {
        out[i] = v % 256;
        v = Math.floor(v / 256);
      }
      out[0]! |= 0x80 >> (len - 1);
      return out;
    }
  }
  throw new RangeError(`element size ${n} is too large`);
}

function el(id: number, ...payload: Uint8Array[]): Uint8Array {
  const idBytes: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) idBytes.unshift(v % 256);
  const body = concatBytes(payload);
  return concatBytes([Uint8Array.from(idBytes), ebmlSize(body.length), body]);
}

function uint(id: number, value: number): Uint8Array {
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return el(id, Uint8Array.from(bytes.length ? bytes : [0]));
}

function float64(id: number, value: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, value);
  return el(id, b);
}

function text(id: number, value: string): Uint8Array {
  return el(id, new TextEncoder().encode(value));
}

function simpleBlock(frame: WebmFrame, clusterMs: number): Uint8Array {
  const rel = Math.round(frame.timeMs - clusterMs);
  const head = new Uint8Array(4);
  head[0] = 0x81; // track number 1, as a one-byte vint
  new DataView(head.buffer).setInt16(1, rel);
  head[3] = frame.key ? 0x80 : 0x00;
  return el(0xa3, head, frame.data);
}

/** A complete WebM file: header, segment info, one video track, clusters of blocks. */
export function muxWebm(track: WebmTrack, frames: readonly WebmFrame[]): Uint8Array {
  if (frames.length === 0) throw new Error('no frames to write');
  if (!frames[0]!.key) throw new Error('a WebM video must start with a key frame');
  const header = el(
    0x1a45dfa3,
    uint(0x4286, 1), // EBMLVersion
    uint(0x42f7, 1), // EBMLReadVersion
    uint(0x42f2, 4), // EBMLMaxIDLength
    uint(0x42f3, 8), // EBMLMaxSizeLength
    text(0x4282, 'webm'), // DocType
    uint(0x4287, 2), // DocTypeVersion
    uint(0x4285, 2), // DocTypeReadVersion
  );
  const info = el(
    0x1549a966,
    uint(0x2ad7b1, 1_000_000), // TimecodeScale: timecodes in milliseconds
    text(0x4d80, 'Latent Atelier'), // MuxingApp
    text(0x5741, 'Latent Atelier'), // WritingApp
    float64(0x4489, track.durationMs), // Duration
  );
  const tracks = el(
    0x1654ae6b,
    el(
      0xae, // TrackEntry
      uint(0xd7, 1), // TrackNumber
      uint(0x73c5, 1), // TrackUID
      uint(0x83, 1), // TrackType: video
      uint(0x9c, 0), // FlagLacing
      text(0x86, track.codec), // CodecID
      el(0xe0, uint(0xb0, track.width), uint(0xba, track.height)), // Video: PixelWidth, PixelHeight
    ),
  );
  const clusters: Uint8Array[] = [];
  let start = 0;
  while (start < frames.length) {
    const clusterMs = Math.round(frames[start]!.timeMs);
    let end = start;
    const blocks: Uint8Array[] = [];
    while (end < frames.length && frames[end]!.timeMs - clusterMs <= MAX_CLUSTER_MS) {
      blocks.push(simpleBlock(frames[end]!, clusterMs));
      end++;
    }
    clusters.push(el(0x1f43b675, uint(0xe7, clusterMs), ...blocks));
    start = end;
  }
  return concatBytes([header, el(0x18538067, info, tracks, ...clusters)]);
}

/** Whether this browser has WebCodecs' video encoder (support for a codec is asked when encoding). */
export function canEncodeWebm(): boolean {
  return typeof VideoEncoder === 'function' && typeof VideoFrame === 'function';
}

const CODECS: { config: string; id: WebmTrack['codec'] }[] = [
  { config: 'vp09.00.10.08', id: 'V_VP9' },
  { config: 'vp8', id: 'V_VP8' },
];

/**
 * Encodes frames (drawn by `draw(i, canvas)` onto a size × size canvas) at
 * `fps` into a WebM file. Throws when no VP9/VP8 encoder is available, so the
 * caller can fall back to recording.
 */
export async function encodeWebm(count: number, size: number, fps: number, draw: (i: number, canvas: HTMLCanvasElement) => void): Promise<Blob> {
  const bitrate = Math.round(Math.min(6e6, Math.max(4e5, size * size * fps * 0.2)));
  let chosen: (typeof CODECS)[number] | null = null;
  for (const c of CODECS) {
    const support = await VideoEncoder.isConfigSupported({ codec: c.config, width: size, height: size, bitrate, framerate: fps });
    if (support.supported) {
      chosen = c;
      break;
    }
  }
  if (!chosen) throw new Error('this browser has no VP9 or VP8 encoder');
  const frames: WebmFrame[] = [];
  let failure: Error | null = null;
  const encoder = new VideoEncoder({
    output: (chunk) => {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      frames.push({ timeMs: chunk.timestamp / 1000, key: chunk.type === 'key', data });
    },
    error: (e) => {
      failure = e instanceof Error ? e : new Error(String(e));
    },
  });
  encoder.configure({ codec: chosen.config, width: size, height: size, bitrate, framerate: fps, latencyMode: 'quality' });
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const frameUs = 1e6 / fps;
  try {
    for (let i = 0; i < count; i++) {
      draw(i, canvas);
      const frame = new VideoFrame(canvas, { timestamp: Math.round(i * frameUs), duration: Math.round(frameUs) });
      // A key frame every two seconds, so players can seek.
      encoder.encode(frame, { keyFrame: i % Math.max(1, Math.round(2 * fps)) === 0 });
      frame.close();
      // Let the encoder drain instead of holding every frame in memory.
      while (encoder.encodeQueueSize > 8) await new Promise((r) => setTimeout(r, 5));
    }
    await encoder.flush();
  } finally {
    if (encoder.state !== 'closed') encoder.close();
  }
  if (failure) throw failure;
  frames.sort((a, b) => a.timeMs - b.timeMs);
  const bytes = muxWebm({ codec: chosen.id, width: size, height: size, durationMs: (count * 1000) / fps }, frames);
  return new Blob([bytes as BlobPart], { type: 'video/webm' });
}
