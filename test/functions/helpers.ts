/** Requests to the compiled Pages worker (real router, real asset server over the fixture site). */
import { exports } from 'cloudflare:workers';
import { expect } from 'vitest';

const worker = (exports as unknown as { default: { fetch(request: Request): Promise<Response> } }).default;

export const ORIGIN = 'https://atelier.test';

export function call(path: string, init?: RequestInit): Promise<Response> {
  return worker.fetch(new Request(ORIGIN + path, init));
}

/** Body of a JSON response, after checking the headers every API answer carries. */
export async function jsonOf(response: Response): Promise<Record<string, unknown>> {
  expect(response.headers.get('Content-Type')).toBe('application/json; charset=utf-8');
  expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*');
  expect(response.headers.get('X-Content-Type-Options')).toBe('nosniff');
  const text = await response.text();
  expect(Number(response.headers.get('Content-Length'))).toBe(new TextEncoder().encode(text).byteLength);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Checks an error answer: the status, JSON {error} with a message matching `pattern`, not cached. */
export async function expectError(response: Response, status: number, pattern: RegExp): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('Cache-Control')).toBe('no-store');
  const body = await jsonOf(response);
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatch(pattern);
  return body.error as string;
}
