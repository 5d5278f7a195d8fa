import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FromWorker, ToWorker } from '../../site/scripts/engine/decode-protocol.ts';
import { startDecodeEngine } from '../../site/scripts/engine/remote-decoder.ts';

/**
 * A stand-in for decode-worker.ts: answers start, then decodes one at a time,
 * each taking DECODE_MS of (fake) time and reporting it as the worker does.
 */
const DECODE_MS = 40;

class FakeDecodeWorker extends EventTarget {
  private busyUntil = 0;
  postMessage(msg: ToWorker): void {
    if (msg.type === 'start') {
      this.reply({ type: 'started', outcome: { used: 'wasm', failed: [], measured: [], warmupMs: 1 } }, 0);
    } else if (msg.type === 'decode') {
      const start = Math.max(Date.now(), this.busyUntil);
      this.busyUntil = start + DECODE_MS;
      const values = new Float32Array(4).fill(0.5);
      this.reply({ type: 'decoded', id: msg.id, values, ms: DECODE_MS }, this.busyUntil - Date.now());
    }
  }
  terminate(): void {}
  private reply(data: FromWorker, afterMs: number): void {
    setTimeout(() => this.dispatchEvent(new MessageEvent('message', { data })), afterMs);
  }
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('decoding in the worker', () => {
  it("reports each decode's own time, not the wait behind decodes queued ahead of it", async () => {
    vi.useFakeTimers();
    vi.stubGlobal('Worker', FakeDecodeWorker);
    const artifacts = { modelTopology: {}, weightSpecs: [], weightData: new ArrayBuffer(0) };
    const starting = startDecodeEngine({ forced: 'wasm', problem: null }, artifacts, 2, { height: 2, width: 2, channels: 1 }, { search: '' });
    await vi.runAllTimersAsync();
    const engine = await starting;
    expect(engine.where).toBe('worker');

    const t0 = Date.now();
    const out = () => new Uint8ClampedArray(2 * 2 * 4);
    const three = Promise.all([0, 1, 2].map((i) => engine.decoder.decodeRgba(Float32Array.of(i, -i), out())));
    await vi.runAllTimersAsync();
    // The third result waited for the two ahead of it: 120 ms after asking; it still took 40.
    expect(Date.now() - t0).toBe(3 * DECODE_MS);
    expect(await three).toEqual([DECODE_MS, DECODE_MS, DECODE_MS]);
  });
});
