import { describe, expect, it } from 'vitest';
import { BACKEND_LABEL, backendOrder, engineSentence, isSoftwareRenderer, type BackendRequest, readBackendRequest, recallChoice, rememberChoice, REMEMBER_MS } from '../../site/scripts/engine/backend-choice.ts';
import { listedModels, studiosWithAvailability } from '../../site/build/catalog.ts';
import { concatBuffers, filesToDownload, planWeights } from '../../site/scripts/engine/bundle-loader.ts';
import { ByteProgress, fileKey, formatBytes, type ProgressSnapshot } from '../../site/scripts/engine/progress.ts';
import type { BundleManifest } from '../../lib/bundle.ts';

describe('ByteProgress', () => {
  it('sums manifest sizes and received bytes', () => {
    const seen: ProgressSnapshot[] = [];
    const p = new ByteProgress((s) => seen.push(s));
    p.expect('decoder/model.json', 1000);
    p.expect('decoder/group1-shard1of1.bin', 9000);
    expect(p.snapshot()).toEqual({ loaded: 0, total: 10000, fraction: 0 });
    p.started('decoder/model.json', 1000);
    p.add('decoder/model.json', 600);
    p.add('decoder/model.json', 400);
    p.finished('decoder/model.json');
    p.started('decoder/group1-shard1of1.bin', null);
    p.add('decoder/group1-shard1of1.bin', 4500);
    expect(p.snapshot()).toEqual({ loaded: 5500, total: 10000, fraction: 0.55 });
    expect(seen.length).toBeGreaterThan(4);
  });

  it('uses Content-Length for a file the manifest did not size', () => {
    const p = new ByteProgress();
    p.expect('manifest.json', undefined);
    expect(p.snapshot().fraction).toBeNull();
    p.started('manifest.json', 2000);
    p.add('manifest.json', 500);
    expect(p.snapshot()).toEqual({ loaded: 500, total: 2000, fraction: 0.25 });
  });

  it('never reports more than 100%, even if a file is larger than announced', () => {
    const p = new ByteProgress();
    p.expect('a', 10);
    p.started('a', 10);
    p.add('a', 25);
    expect(p.snapshot()).toEqual({ loaded: 25, total: 25, fraction: 1 });
    p.finished('a');
    expect(p.snapshot().total).toBe(25);
  });

  it('formats bytes in decimal units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1000)).toBe('1.0 kB');
    expect(formatBytes(408068)).toBe('408 kB');
    expect(formatBytes(1_450_000)).toBe('1.4 MB');
    expect(formatBytes(-1)).toBe('?');
  });

  it('names files relative to the manifest, as the manifest does', () => {
    const base = 'http://x.test/models/digits/manifest.json';
    expect(fileKey('http://x.test/models/digits/decoder/group1-shard1of1.bin', base)).toBe('decoder/group1-shard1of1.bin');
    expect(fileKey('/models/digits/latent-map.json', base)).toBe('latent-map.json');
    expect(fileKey('http://other.test/models/digits/a.bin', base)).toBe('/models/digits/a.bin');
  });
});

describe('backend choice', () => {
  it('reads ?backend=', () => {
    expect(readBackendRequest('')).toEqual({ forced: null, problem: null });
    expect(readBackendRequest('?backend=wasm')).toEqual({ forced: 'wasm', problem: null });
    expect(readBackendRequest('?z=1&backend=CPU')).toEqual({ forced: 'cpu', problem: null });
    const bad = readBackendRequest('?backend=webgpu');
    expect(bad.forced).toBeNull();
    expect(bad.problem).toContain('"webgpu"');
  });

  it('tries the forced backend first, then the usual order', () => {
    expect(backendOrder({ forced: null, problem: null })).toEqual(['webgl', 'wasm', 'cpu']);
    expect(backendOrder({ forced: 'cpu', problem: null })).toEqual(['cpu', 'webgl', 'wasm']);
    expect(backendOrder({ forced: 'wasm', problem: null })).toEqual(['wasm', 'webgl', 'cpu']);
  });

  it('says which backend runs and why, for a page running tfjs itself', () => {
    const auto: BackendRequest = { forced: null, problem: null };
    const here = (used: 'webgl' | 'wasm', failed: { name: 'webgl'; reason: string }[], request = auto) =>
      engineSentence({ used, failed, measured: [], where: 'page', workerProblem: null }, request, 'Running the encoder and decoder');
    expect(here('webgl', [])).toBe(`Running the encoder and decoder on ${BACKEND_LABEL.webgl}.`);
    expect(here('wasm', [], { forced: 'wasm', problem: null })).toBe(`Running the encoder and decoder on ${BACKEND_LABEL.wasm}, as asked in the address.`);
    const s = here('wasm', [{ name: 'webgl', reason: 'this browser gives no WebGL context' }]);
    expect(s).toBe('WebGL (GPU) is unavailable (this browser gives no WebGL context); running the encoder and decoder on WebAssembly (CPU) instead, which is slower.');
  });

  it('says how the decode engine chose: measured figures, the address, a missing backend, no worker', () => {
    const auto = { forced: null, problem: null };
    const measured = [
      { name: 'webgl' as const, ms: 416.6 },
      { name: 'wasm' as const, ms: 6.62 },
    ];
    // The studios add their own live time per image: the sentence names the loser, not a second set of figures.
    expect(engineSentence({ used: 'wasm', failed: [], measured, where: 'worker', workerProblem: null }, auto)).toBe(
      'Decoding on WebAssembly (CPU), the fastest measured here, ahead of WebGL (GPU).',
    );
    expect(engineSentence({ used: 'wasm', failed: [], measured, where: 'worker', workerProblem: null }, auto, 'Decoding', { figures: true })).toBe(
      'Decoding on WebAssembly (CPU), the fastest measured here (WebGL (GPU) 417 ms, WebAssembly (CPU) 6.6 ms per image).',
    );
    expect(engineSentence({ used: 'cpu', failed: [], measured: [], where: 'worker', workerProblem: null }, { forced: 'cpu', problem: null })).toBe(
      'Decoding on plain JavaScript (CPU), as asked in the address.',
    );
    const noGl = engineSentence({ used: 'wasm', failed: [{ name: 'webgl', reason: 'this browser gives no WebGL context' }], measured: [measured[1]!], where: 'worker', workerProblem: null }, auto);
    expect(noGl).toBe('WebGL (GPU) is unavailable (this browser gives no WebGL context); decoding on WebAssembly (CPU) instead, which is slower.');
    const inPage = engineSentence({ used: 'wasm', failed: [], measured, where: 'page', workerProblem: 'turned off in the address' }, auto);
    expect(inPage).toMatch(/Decodes share the page's thread \(no worker: turned off in the address\)\.$/);
    const again = engineSentence({ used: 'wasm', remembered: true, failed: [], measured, where: 'worker', workerProblem: null }, auto);
    expect(again).toBe('Decoding on WebAssembly (CPU), the fastest measured here on an earlier visit, ahead of WebGL (GPU).');
  });

  it('does not call software WebGL a GPU', () => {
    const auto = { forced: null, problem: null };
    const swiftShader = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
    expect(isSoftwareRenderer(swiftShader)).toBe(true);
    expect(isSoftwareRenderer('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe(true);
    expect(isSoftwareRenderer('ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)')).toBe(false);
    expect(isSoftwareRenderer(null)).toBe(false);
    const measured = [
      { name: 'webgl' as const, ms: 40 },
      { name: 'wasm' as const, ms: 26 },
    ];
    const lost = engineSentence({ used: 'wasm', failed: [], measured, where: 'worker', workerProblem: null }, auto, 'Decoding', { renderer: swiftShader });
    expect(lost).toBe('Decoding on WebAssembly (CPU), the fastest measured here, ahead of WebGL (no GPU: emulated on the CPU).');
    const won = engineSentence({ used: 'webgl', failed: [], measured: [], where: 'worker', workerProblem: null }, { forced: 'webgl', problem: null }, 'Decoding', { renderer: swiftShader });
    expect(won).toBe('Decoding on WebGL (no GPU: emulated on the CPU), as asked in the address.');
    expect(won).not.toMatch(/\(GPU\)/);
    const real = engineSentence({ used: 'webgl', failed: [], measured: [], where: 'worker', workerProblem: null }, auto, 'Decoding', { renderer: 'ANGLE (Apple, ANGLE Metal Renderer: Apple M2, Unspecified Version)' });
    expect(real).toBe('Decoding on WebGL (GPU).');
  });

  it('remembers a measured choice per model version for two weeks, and shrugs off bad storage', () => {
    const map = new Map<string, string>();
    const store = { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v) };
    const measured = [
      { name: 'webgl' as const, ms: 80.04 },
      { name: 'wasm' as const, ms: 20.01 },
    ];
    expect(recallChoice(store, 'faces@abc', 1000)).toBeNull();
    rememberChoice(store, 'faces@abc', 'wasm', measured, 1000);
    expect(recallChoice(store, 'faces@abc', 2000)).toEqual({ used: 'wasm', measured: [{ name: 'webgl', ms: 80 }, { name: 'wasm', ms: 20 }], at: 1000 });
    // Another model version measures again; so does a stale entry.
    expect(recallChoice(store, 'faces@def', 2000)).toBeNull();
    expect(recallChoice(store, 'faces@abc', 1000 + REMEMBER_MS)).toBeNull();
    // Only a real measurement (two or more backends timed) is kept.
    rememberChoice(store, 'digits@1', 'cpu', [{ name: 'cpu', ms: 5 }], 1000);
    expect(recallChoice(store, 'digits@1', 2000)).toBeNull();
    // Garbage in storage, or storage that throws, means "measure again".
    map.set('latent-atelier:backend:x', '{"used":"quantum","at":1,"measured":[]}');
    expect(recallChoice(store, 'x', 2)).toBeNull();
    map.set('latent-atelier:backend:y', 'not json');
    expect(recallChoice(store, 'y', 2)).toBeNull();
    const throwing = { getItem: () => { throw new Error('SecurityError'); }, setItem: () => { throw new Error('QuotaExceededError'); } };
    expect(recallChoice(throwing, 'faces@abc')).toBeNull();
    expect(() => rememberChoice(throwing, 'faces@abc', 'wasm', measured)).not.toThrow();
  });
});

describe('catalog', () => {
  it('reads models/index.json defensively', () => {
    expect(listedModels({ models: ['digits', 3, 'faces'] })).toEqual(['digits', 'faces']);
    expect(listedModels(null)).toEqual([]);
    expect(listedModels({ models: 'digits' })).toEqual([]);
  });

  it('marks a studio as coming until its bundle is listed', () => {
    const s = studiosWithAvailability(['digits']);
    expect(s.find((x) => x.id === 'digits')?.available).toBe(true);
    expect(s.find((x) => x.id === 'faces')?.available).toBe(false);
  });
});

describe('decoder artifacts', () => {
  const modelUrl = 'http://x.test/models/digits/decoder/model.json';
  const w = (name: string) => ({ name, shape: [1], dtype: 'float32' as const });

  it('lists weight specs and shard URLs in weightsManifest order', () => {
    const plan = planWeights(
      {
        format: 'layers-model',
        modelTopology: { class_name: 'Model' },
        weightsManifest: [
          { paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: [w('a'), w('b')] },
          { paths: ['group2-shard1of1.bin'], weights: [w('c')] },
        ],
      },
      modelUrl,
    );
    expect(plan.specs.map((s) => s.name)).toEqual(['a', 'b', 'c']);
    expect(plan.shardUrls).toEqual([
      'http://x.test/models/digits/decoder/group1-shard1of2.bin',
      'http://x.test/models/digits/decoder/group1-shard2of2.bin',
      'http://x.test/models/digits/decoder/group2-shard1of1.bin',
    ]);
    expect(plan.format).toBe('layers-model');
    expect(plan.convertedBy).toBeNull();
  });

  it('refuses shard paths that leave the bundle, and malformed model.json', () => {
    const bad = (paths: unknown[]) => ({ modelTopology: {}, weightsManifest: [{ paths, weights: [] }] });
    expect(() => planWeights(bad(['../other/x.bin']), modelUrl)).toThrow(/inside the bundle/);
    expect(() => planWeights(bad(['https://evil.test/x.bin']), modelUrl)).toThrow(/inside the bundle/);
    expect(() => planWeights(bad(['/x.bin']), modelUrl)).toThrow(/inside the bundle/);
    expect(() => planWeights({ weightsManifest: [] }, modelUrl)).toThrow(/modelTopology/);
    expect(() => planWeights({ modelTopology: {} }, modelUrl)).toThrow(/weightsManifest/);
    expect(() => planWeights({ modelTopology: {}, weightsManifest: [{ paths: [] }] }, modelUrl)).toThrow(/"paths" and "weights"/);
    expect(() => planWeights('x', modelUrl)).toThrow(/JSON object/);
  });

  it('concatenates shards in order', () => {
    const out = new Uint8Array(concatBuffers([new Uint8Array([1, 2]).buffer, new Uint8Array([]).buffer, new Uint8Array([3]).buffer]));
    expect(Array.from(out)).toEqual([1, 2, 3]);
  });

  it('downloads the decoder folder and the latent map, not the encoder or the figures', () => {
    const manifest = {
      decoder: 'decoder/model.json',
      latentMap: 'latent-map.json',
      files: { 'decoder/model.json': 1, 'decoder/group1-shard1of1.bin': 2, 'encoder/model.json': 3, 'latent-grid.png': 4, 'latent-map.json': 5 },
    } as unknown as BundleManifest;
    expect(filesToDownload(manifest).sort()).toEqual(['decoder/group1-shard1of1.bin', 'decoder/model.json', 'latent-map.json']);
  });
});
