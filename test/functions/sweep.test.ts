/**
 * A malformed-request sweep: hand-picked nasty requests plus seeded random
 * combinations of odd paths, encodings, huge and repeated parameters, NaN and
 * Infinity, unicode names and path traversal. Every one must get a 4xx with a
 * JSON {error} and no stack trace; a 5xx or a non-JSON answer fails the test
 * and the summary lists each offender.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../lib/random.ts';
import { call, ORIGIN } from './helpers.ts';

interface Probe {
  method: string;
  path: string;
  headers?: Record<string, string>;
}

/** The project's seeded generator, so the sweep is the same on every run. */
const generator = mulberry32;

const BAD_IDS = [
  'cats', 'Faces', 'FACES', 'faces%20', ' faces', 'fa ces', 'faces%00', '%00', '%ff', '%E0%A4%A', '%', '%%', '%zz', 'faces%2F..', '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2fmodels', '..%5c..%5cmodels', 'faces.json', 'faces;drop', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  '%D1%84%D0%B5%D0%B9%D1%81%D1%8B', '%F0%9F%98%80', 'ﬁfaces', 'faceѕ', 'x'.repeat(41), 'a'.repeat(3000), '-faces', '0faces', 'faces%0d%0aSet-Cookie:x',
  'index.json', 'digits%3Fx%3D1', '%EF%BB%BFfaces', 'faces%09', '%C0%AE%C0%AE', 'hidden',
];

const BAD_NAMES = [
  'Wavy_Hair', 'smiling', 'SMILING', 'Bald', 'Smi-ling', 'Smiling%20', '%20Smiling', 'Smiling.json', 'Smiling;', '..%2Fmanifest.json', '..%2F..%2Fmodels%2Findex.json',
  '%2e%2e%2fattributes.json', '_Smiling', '1Smiling', '%00', '%ff', '%E0%A4%A', '%', '__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty',
  '%F0%9F%98%80', 'Sm%C3%ADling', 'S%CC%8Amiling', 'Smilin%C9%A1', 'Smiling%00', 'A'.repeat(41), 'B'.repeat(5000), 'Smiling%0d%0aX-Injected:1', 'Smiling%5c..%5c',
];

const BAD_WEIGHTS = [
  'NaN', 'nan', 'Infinity', '-Infinity', '+Infinity', 'inf', '1e309', '-1e400', '1e99999', '9'.repeat(400), '10.0001', '-10.5', '11', '1e2', '-1e2', '0x10', '0b1', '0o7',
  '1_0', '1,5', '', ' ', ' 1', '1%20', '%C2%A01', '%D9%A1', '%C2%BD', '1e', 'e1', '--1', '+-1', '.', '..1', '1..2', '1.2.3', '%00', 'null', 'true', '[]', '{}', '1/2', '½',
  '٣', '１', '1%00', '1e1e1', 'Infinity%00', '1n', '0.5px', '∞', '%F0%9F%98%80',
];

function fixedProbes(): Probe[] {
  const probes: Probe[] = [];
  const get = (path: string, headers?: Record<string, string>) => probes.push({ method: 'GET', path, headers });
  for (const id of BAD_IDS) {
    get(`/api/models/${id}`);
    get(`/api/models/${id}/attributes`);
    get(`/api/models/${id}/mix?Smiling=1`);
  }
  for (const name of BAD_NAMES) {
    get(`/api/models/faces/attributes/${name}`);
    get(`/api/models/faces/mix?${name}=1`);
  }
  for (const weight of BAD_WEIGHTS) get(`/api/models/faces/mix?Smiling=${weight}`);
  for (const format of ['f32', 'F16', 'JSON', '', 'f16%00', 'json&format=f16', 'f16&format=f16', 'binary', '%F0%9F%98%80']) {
    get(`/api/models/faces/attributes/Smiling?format=${format}`);
  }
  // Path traversal that stays under /api/: encoded slashes keep the dots inside one segment.
  for (const path of [
    '/api/models/faces/attributes/..%2F..%2F..%2Fwrangler.toml', '/api/models/..%2Fmodels%2Ffaces/attributes', '/api/models/faces%2F..%2Fdigits/attributes',
    '/api/models/faces/..%2Fmix?Smiling=1', '/api/..%2Fmodels%2Findex.json', '/api/models/faces/attributes/%2E%2E%2F%2E%2E%2Fmanifest.json',
    '/api/models/faces/attributes/..%5C..%5Cmanifest.json', '/api/models/faces/attributes/%252e%252e%252fmanifest.json', '/api/models/faces/attributes/....%2F%2F',
  ]) get(path);
  // Odd paths: repeated slashes, extra segments, unknown routes, wrong case.
  for (const path of [
    '/api', '/api/', '/api//', '/api///models', '/api/models//', '/api/models/faces//attributes', '/api/models/faces/attributes//Smiling',
    '/api/models/faces/attributes/Smiling/x',
    '/api/models/faces/mix/Smiling', '/api/models/faces/mixes', '/api/v2/models', '/api/models/faces/attributes/Smiling/..%2F', '/api/%00', '/api/%ff', '/api/%',
    '/api/models/faces/attributes/Smiling;format=f16', `/api/${'x/'.repeat(500)}`, `/api/models/${'%25'.repeat(1000)}`,
  ]) get(path);
  // Mix queries: none, empty pairs, repeated names, too many terms, huge values and queries.
  for (const query of [
    '', '?', '?&&&', '?=', '?=1', '?Smiling', '?Smiling=', '?Smiling=1&Smiling=1', '?Smiling=1&Male=1&Smiling=-1', '?Smiling=1&smiling=1',
    `?${Array.from({ length: 41 }, (_, i) => `Smiling${i}=0.1`).join('&')}`, `?${Array.from({ length: 200 }, () => 'Smiling=1').join('&')}`,
    `?${Array.from({ length: 1000 }, (_, i) => `A${i}=1`).join('&')}`, `?Smiling=${'0'.repeat(5000)}1`, `?${'S'.repeat(5000)}=1`, '?Smiling=1&Wavy_Hair=1',
    '?Smiling[]=1', '?Smiling[0]=1', '?Smiling.x=1', '?__proto__=1', '?constructor=1', '?Smiling=1;Male=1', '?Smiling=1%26Male%3D1', '?Smiling%3D1',
  ]) get(`/api/models/faces/mix${query}`);
  get('/api/models/digits/mix?Smiling=1');
  get('/api/models/digits/mix');
  get('/api/models/digits/attributes/Smiling');
  get('/api/models/digits/attributes/Smiling?format=f16');
  // Query parameters where a route takes none.
  for (const path of ['/api/models?x=1', '/api/models?models=faces', '/api/models/faces?format=f16', '/api/models/faces/attributes?Smiling=1', `/api/models?${'x'.repeat(5000)}`]) get(path);
  // A conditional header must never turn an error into a 304.
  get('/api/models/cats', { 'If-None-Match': '*' });
  get('/api/models/faces/mix?Smiling=NaN', { 'If-None-Match': '*' });
  // Methods other than GET, HEAD and OPTIONS.
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND', 'MKCOL', 'PURGE', 'COPY', 'MOVE', 'LOCK', 'REPORT']) {
    probes.push({ method, path: '/api/models/faces/mix?Smiling=1' });
    probes.push({ method, path: '/api/models' });
    probes.push({ method, path: '/api/nowhere' });
  }
  return probes;
}

function randomProbes(count: number): Probe[] {
  const random = generator(20260424);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const goodNames = ['Smiling', 'Blond_Hair', 'Eyeglasses', 'Male'];
  const goodWeights = ['0.8', '-0.5', '1', '0', '10', '-10', '.25'];
  const probes: Probe[] = [];
  while (probes.length < count) {
    const kind = Math.floor(random() * 5);
    if (kind === 0) {
      // A valid mix with exactly one bad weight somewhere in it.
      const names = goodNames.filter(() => random() < 0.6);
      const bad = pick(goodNames.filter((n) => !names.includes(n)).concat(['Smiling']));
      const terms = names.filter((n) => n !== bad).map((n) => `${n}=${pick(goodWeights)}`);
      terms.splice(Math.floor(random() * (terms.length + 1)), 0, `${bad}=${pick(BAD_WEIGHTS)}`);
      probes.push({ method: 'GET', path: `/api/models/faces/mix?${terms.join('&')}` });
    } else if (kind === 1) {
      // A valid mix plus one bad or repeated name.
      const name = pick(goodNames);
      const extra = random() < 0.5 ? `${pick(BAD_NAMES)}=1` : `${name}=${pick(goodWeights)}`;
      probes.push({ method: 'GET', path: `/api/models/faces/mix?${name}=${pick(goodWeights)}&${extra}` });
    } else if (kind === 2) {
      // Too many terms, each one valid on its own.
      const n = 41 + Math.floor(random() * 100);
      probes.push({ method: 'GET', path: `/api/models/faces/mix?${Array.from({ length: n }, (_, i) => `${pick(goodNames)}${i}=${pick(goodWeights)}`).join('&')}` });
    } else if (kind === 3) {
      // A route with a bad id or name in it.
      const route = pick(['', '/attributes', '/attributes/Smiling', '/mix?Smiling=1']);
      probes.push({ method: random() < 0.25 ? 'HEAD' : 'GET', path: `/api/models/${pick(BAD_IDS)}${route}` });
    } else {
      // A random run of bytes, percent-encoded, as an attribute name.
      const bytes = Array.from({ length: 1 + Math.floor(random() * 24) }, () => Math.floor(random() * 256));
      const name = bytes.map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
      // URLs treat %2e and %2e%2e segments as . and .., which would lead to a valid route.
      if (/^(%2e){1,2}$/.test(name)) continue;
      probes.push({ method: 'GET', path: `/api/models/faces/attributes/${name}` });
    }
  }
  return probes;
}

describe('malformed-request sweep', () => {
  const probes = [...fixedProbes(), ...randomProbes(240)];

  it(`answers all ${probes.length} malformed requests with a 4xx JSON error, never a 5xx`, { timeout: 300_000 }, async () => {
    expect(probes.length).toBeGreaterThanOrEqual(200);
    const statuses = new Map<number, number>();
    const offenders: string[] = [];
    const probeOne = async (probe: Probe) => {
      const request = `${probe.method} ${probe.path.length > 120 ? `${probe.path.slice(0, 120)}…` : probe.path}`;
      let response: Response;
      try {
        response = await call(probe.path, { method: probe.method, headers: probe.headers });
      } catch (e) {
        offenders.push(`${request}: threw ${String(e)}`);
        return;
      }
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const text = await response.text();
      const problems: string[] = [];
      if (response.status < 400 || response.status > 499) problems.push(`status ${response.status}`);
      if (response.headers.get('Content-Type') !== 'application/json; charset=utf-8') problems.push(`content type ${response.headers.get('Content-Type')}`);
      if (response.headers.get('Access-Control-Allow-Origin') !== '*') problems.push('no CORS header');
      if (probe.method === 'HEAD') {
        if (text !== '') problems.push('HEAD with a body');
      } else {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          problems.push(`body is not JSON: ${text.slice(0, 80)}`);
        }
        const error = (body as { error?: unknown } | undefined)?.error;
        if (typeof error !== 'string' || error.length < 10) problems.push(`no error message: ${text.slice(0, 80)}`);
        else if (/\n\s+at |\.ts:\d+|internal error/.test(error)) problems.push(`leaks internals: ${error.slice(0, 120)}`);
        if (Object.keys(body ?? {}).join() !== 'error') problems.push(`extra fields: ${text.slice(0, 80)}`);
      }
      if (problems.length) offenders.push(`${request} (${new URL(ORIGIN + probe.path).pathname.slice(0, 60)}): ${problems.join('; ')}`);
    };
    // A few in flight at a time, as real clients would send them.
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < probes.length) await probeOne(probes[next++]!);
    }));
    console.log(`sweep: ${probes.length} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(offenders, offenders.join('\n')).toEqual([]);
  });
});
