/**
 * Settling new faces on the site: the encoder's download, the engine's
 * Settler on a real backend against Node's round trips, the words under the
 * control, and the recent strip taking the settled point.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest, type BundleManifest } from '../../lib/bundle.ts';
import { loadEncoderArtifacts, type ManifestStage } from '../../site/scripts/engine/bundle-loader.ts';
import { createDecoder } from '../../site/scripts/engine/decoder.ts';
import { Settler } from '../../site/scripts/engine/settler.ts';
import { activateBackend } from '../../site/scripts/engine/tf-runtime.ts';
import { settleHint, tripsText } from '../../site/scripts/faces/settle.ts';
import { RecentFaces } from '../../site/scripts/faces/state.ts';
import { readManifest, readNetwork } from '../../training/bundle-read.ts';
import { settleWith } from '../../training/settle-node.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const read = (model: string) => parseManifest(JSON.parse(readFileSync(join(ROOT, 'public/models', model, 'manifest.json'), 'utf8')));

const fileFetch: typeof fetch = async (input) => {
  try {
    return new Response(readFileSync(join(ROOT, 'public', new URL(String(input)).pathname)));
  } catch {
    return new Response('not found', { status: 404 });
  }
};
const stage = (id: string, manifest: BundleManifest): ManifestStage => ({ manifestUrl: `http://site.test/models/${id}/manifest.json`, manifest, fetcher: fileFetch });

describe('settling on the site', () => {
  it('fetches the encoder named by the manifest, none when there is none, and names a missing file', async () => {
    const m = read('digits');
    const a = await loadEncoderArtifacts(stage('digits', m), fileFetch);
    expect((a!.weightData as ArrayBuffer).byteLength).toBe(m.files![`${m.encoder!.slice(0, m.encoder!.lastIndexOf('/') + 1)}group1-shard1of1.bin`]);
    expect(await loadEncoderArtifacts(stage('digits', { ...m, encoder: null }), fileFetch)).toBeNull();
    await expect(loadEncoderArtifacts(stage('digits', { ...m, encoder: 'gone/model.json' }), fileFetch)).rejects.toThrow(/the encoder answered HTTP 404/);
  });

  it('the engine\'s Settler moves points where Node\'s round trips move them, on a real backend', async () => {
    const m = read('digits');
    await activateBackend('cpu');
    const s = stage('digits', m);
    const { loadDecoderArtifacts } = await import('../../site/scripts/engine/bundle-loader.ts');
    const decoder = await createDecoder(await loadDecoderArtifacts(s), m.latentDim, m.image);
    const settler = new Settler(() => decoder);
    const z = Float32Array.of(0.5, -1, 2.5, 0.25);
    await expect(settler.settle(z, 1)).rejects.toThrow(/the encoder has not loaded/);
    settler.setEncoder((await loadEncoderArtifacts(s, fileFetch))!);
    const onSite = await settler.settle(z, 3);
    const step = { relax: 1.5, correction: { matrix: Float32Array.of(1.05, 0.1, -0.1, 0.95), offset: Float32Array.of(0.02, -0.03) } };
    const onSiteStepped = await settler.settle(z, 2, step);

    const dir = join(ROOT, 'public/models/digits');
    const nm = readManifest(dir);
    const inNode = await settleWith(await readNetwork(dir, nm, 'encoder'), await readNetwork(dir, nm, 'decoder'), z, 3, m.latentDim);
    Array.from(onSite).forEach((v, i) => expect(v).toBeCloseTo(inNode[i]!, 4));
    const inNodeStepped = await settleWith(await readNetwork(dir, nm, 'encoder'), await readNetwork(dir, nm, 'decoder'), z, 2, m.latentDim, step);
    Array.from(onSiteStepped).forEach((v, i) => expect(v).toBeCloseTo(inNodeStepped[i]!, 4));
    expect(Array.from(onSiteStepped)).not.toEqual(Array.from(onSite));
    expect(Array.from(onSite)).not.toEqual(Array.from(z));
    await expect(new Settler(() => null).settle(z, 1)).rejects.toThrow(/the decoder has not started/);
    decoder.dispose();
  });

  it('says what a round trip does and what the build measured at each count', () => {
    const faces = read('faces');
    const m: BundleManifest = { ...faces, metrics: { ...faces.metrics, prior: { defaultTemperature: 1, rows: [
      { kind: 'prior', temperature: 0.8, confident: 0.2, fid: 50 },
      { kind: 'prior', temperature: 1, confident: 0.358, fid: 28.4 },
      { kind: 'settled', temperature: 1, trips: 1, confident: 0.438, fid: 25 },
      { kind: 'settled', temperature: 1, trips: 6, confident: 0.63, fid: 24 },
    ] } } };
    expect(settleHint(m, true, null)).toMatch(/encodes the face and decodes it again.* reads every attribute clearly on 36% of faces as drawn, 44% after 1, 63% after 6\.$/);
    expect(settleHint(m, false, 'this bundle has no encoder')).toMatch(/Not available here: this bundle has no encoder\.$/);
    expect(settleHint({ ...m, metrics: { ...m.metrics, prior: undefined } }, true, null)).not.toMatch(/Measured/);
    expect([tripsText(1), tripsText(6)]).toEqual(['1 round trip', '6 round trips']);
    // A corrected, over-relaxed step is said in words; a plain one is not.
    const stepped: BundleManifest = { ...m, metrics: { ...m.metrics, prior: { ...(m.metrics.prior as object), settle: { trips: 6, relax: 2, correction: { codes: 4000 } } } } };
    expect(settleHint(stepped, true, null)).toMatch(/draws that look clearly; each trip is corrected for the small drift a round trip has on real faces .* and taken 2 times as far, so fewer trips are needed\. The face appears/);
    expect(settleHint(m, true, null)).not.toMatch(/corrected/);
  });

  it('the recent strip takes the settled point only while the entry still holds the drawn one', () => {
    const recent = new RecentFaces(4);
    const drawn = Float32Array.of(1, 2);
    const e = recent.add({ base: drawn, sliders: [] });
    const settled = Float32Array.of(1.5, 2.5);
    expect(recent.rebase(e.serial, Float32Array.of(1, 2), settled)).toBe(false);
    expect(recent.rebase(e.serial, drawn, settled)).toBe(true);
    expect(recent.find(e.serial)).toMatchObject({ base: settled, drawn });
    expect(recent.rebase(e.serial, drawn, Float32Array.of(0, 0))).toBe(false);
    expect(recent.rebase(99, settled, drawn)).toBe(false);
  });
});
