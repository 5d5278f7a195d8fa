import { describe, expect, it } from 'vitest';
import { ApiProblem, MixClient, parseAttributeList, parseMixVector, type Fetcher } from '../../site/scripts/faces/mix.ts';

const model = { version: '46dc4391', latentDim: 2 };

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/** A fake API whose answers the test releases one by one. */
function fakeApi() {
  const calls: string[] = [];
  const waiting: { url: string; release: (r: Response) => void }[] = [];
  const fetcher: Fetcher = (url) =>
    new Promise<Response>((resolve) => {
      calls.push(url);
      waiting.push({ url, release: resolve });
    });
  // Reading a Response body takes a few turns of the event loop, not just microtasks.
  const settle = async () => {
    for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
  };
  return {
    calls,
    fetcher,
    settle,
    async answer(vector: number[] = [1, 2], modelVersion = model.version) {
      const next = waiting.shift()!;
      next.release(json({ vector, modelVersion }));
      await settle();
      return next.url;
    },
    async fail(status: number, error: string) {
      const next = waiting.shift()!;
      next.release(json({ error }, status));
      await settle();
    },
  };
}

function client(api: ReturnType<typeof fakeApi>) {
  const seen: [string, number[]][] = [];
  const errors: [string, string][] = [];
  const c = new MixClient({
    fetcher: api.fetcher,
    modelId: 'faces',
    ...model,
    onVector: (key, v) => seen.push([key, Array.from(v)]),
    onError: (key, e) => errors.push([key, e.message]),
  });
  return { c, seen, errors };
}

describe('MixClient', () => {
  it('keeps one request in flight while a slider moves and asks only for the newest setting next', async () => {
    const api = fakeApi();
    const { c, seen } = client(api);
    c.live([{ name: 'Smiling', value: 0.05 }]);
    for (let step = 2; step <= 20; step++) c.live([{ name: 'Smiling', value: step / 20 }]);
    expect(api.calls).toEqual(['/api/models/faces/mix?Smiling=0.05']);
    await api.answer([0.25, 0]);
    expect(api.calls[1]).toBe('/api/models/faces/mix?Smiling=1');
    await api.answer([1, 0]);
    expect(seen).toEqual([
      ['Smiling=0.05', [0.25, 0]],
      ['Smiling=1', [1, 0]],
    ]);
    expect(c.idle).toBe(true);
    expect(c.requestCount).toBe(2);
  });

  it('answers a setting it has seen from its cache, and all-zero sliders without asking', async () => {
    const api = fakeApi();
    const { c, seen } = client(api);
    c.live([{ name: 'Smiling', value: 1 }]);
    await api.answer([3, 4]);
    c.live([{ name: 'Smiling', value: 1 }]);
    c.live([]);
    expect(api.calls).toHaveLength(1);
    expect(seen.at(-2)).toEqual(['Smiling=1', [3, 4]]);
    expect(seen.at(-1)).toEqual(['', [0, 0]]);
    await expect(c.vector([{ name: 'Smiling', value: 1 }])).resolves.toEqual(Float32Array.of(3, 4));
  });

  it('reports a failure with the API\'s own words and tries again next time', async () => {
    const api = fakeApi();
    const { c, errors } = client(api);
    c.live([{ name: 'Smiling', value: 2 }]);
    await api.fail(500, 'internal error');
    expect(errors).toEqual([['Smiling=2', 'the attribute service answered HTTP 500: internal error']]);
    c.live([{ name: 'Smiling', value: 2 }]);
    expect(api.calls).toHaveLength(2);
  });

  it('shares one request between a live drag and a caller that waits for the same setting', async () => {
    const api = fakeApi();
    const { c } = client(api);
    c.live([{ name: 'Smiling', value: 1 }]);
    const waited = c.vector([{ name: 'Smiling', value: 1 }]);
    expect(api.calls).toHaveLength(1);
    await api.answer([5, 6]);
    await expect(waited).resolves.toEqual(Float32Array.of(5, 6));
  });

  it('turns a network failure into a sentence', async () => {
    const c = new MixClient({
      fetcher: () => Promise.reject(new TypeError('Failed to fetch')),
      modelId: 'faces',
      ...model,
      onVector: () => {},
      onError: () => {},
    });
    await expect(c.vector([{ name: 'Smiling', value: 1 }])).rejects.toThrow('the attribute service could not be reached (Failed to fetch)');
  });
});

describe('API answers', () => {
  it('refuses vectors for another model version or of the wrong size', () => {
    expect(() => parseMixVector({ vector: [1, 2], modelVersion: 'deadbeef' }, model)).toThrow(/version deadbeef/);
    expect(() => parseMixVector({ vector: [1], modelVersion: model.version }, model)).toThrow(ApiProblem);
    expect(() => parseMixVector({ vector: [1, null], modelVersion: model.version }, model)).toThrow(/finite/);
    expect(Array.from(parseMixVector({ vector: [0.5, -1], modelVersion: model.version }, model))).toEqual([0.5, -1]);
  });

  it('reads the attribute list in the order the API gives', () => {
    const list = parseAttributeList(
      { modelVersion: model.version, attributes: [{ name: 'Smiling', positives: 10, negatives: 20, norm: 1.5 }, { name: 'Eyeglasses' }] },
      model,
    );
    expect(list.attributes.map((a) => a.name)).toEqual(['Smiling', 'Eyeglasses']);
    // An older API: no calibration, no version.
    expect(list.attributesVersion).toBeNull();
    expect(list.attributes[0]).toMatchObject({ method: null, scale: null, alsoChanges: null });
    expect(() => parseAttributeList({ modelVersion: 'x', attributes: [] }, model)).toThrow(/reload the page/);
  });

  it('reads the calibrated scale, method, measured side effects and the directions version', () => {
    const list = parseAttributeList({
      modelVersion: model.version, attributesVersion: '0a1b2c3d',
      attributes: [{ name: 'Smiling', positives: 1, negatives: 2, norm: 1, method: 'regression', scale: { add: 1.5, remove: 2 }, alsoChanges: { free: [{ name: 'Mustache', share: 0.1 }, { bad: true }], kept: [] } }],
    }, model);
    expect(list.attributesVersion).toBe('0a1b2c3d');
    expect(list.attributes[0]).toEqual({ name: 'Smiling', positives: 1, negatives: 2, norm: 1, method: 'regression', scale: { add: 1.5, remove: 2 }, alsoChanges: { free: [{ name: 'Mustache', share: 0.1 }], kept: [] } });
  });

  it('reads the states and their probes; a state without a probe turns states off', () => {
    const d = model.latentDim;
    const n = Array.from({ length: d }, (_, i) => (i === 0 ? 1 : 0));
    const entry = (name: string, probe: boolean) => ({ name, ...(probe ? { normal: n, bias: -0.5 } : { normal: null, bias: null }) });
    const good = parseAttributeList({ modelVersion: model.version, states: ['Black_Hair', 'Blond_Hair'], attributes: [entry('Black_Hair', true), entry('Blond_Hair', true), entry('Smiling', false)] }, model);
    expect(good.states).toEqual(['Black_Hair', 'Blond_Hair']);
    expect(good.attributes[0]).toMatchObject({ normal: n, bias: -0.5 });
    expect(good.attributes[2]!.bias).toBeUndefined();
    expect(parseAttributeList({ modelVersion: model.version, states: ['Black_Hair', 'Smiling'], attributes: [entry('Black_Hair', true), entry('Smiling', false)] }, model).states).toBeNull();
    expect(parseAttributeList({ modelVersion: model.version, states: null, attributes: [] }, model).states).toBeNull();
    // A probe of the wrong length is no probe.
    expect(parseAttributeList({ modelVersion: model.version, attributes: [{ name: 'Black_Hair', normal: [1], bias: 0 }] }, model).attributes[0]!.bias).toBeUndefined();
  });
});
