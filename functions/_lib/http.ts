/**
 * HTTP plumbing shared by every route under functions/api: method dispatch,
 * JSON bodies with content ETags, conditional GET, CORS and JSON errors.
 * Works on the standard Request/Response types, so it runs in workerd, in Node
 * and in a browser alike; the routes stay a few lines each.
 */
import { ATTRIBUTE_NAME_PATTERN, ID_PATTERN } from '../../lib/bundle.ts';

/** The part of a Pages Function's context the API reads. */
export interface AssetFetcher {
  fetch(input: Request | string, init?: RequestInit): Promise<Response>;
}
export interface ApiEnv {
  ASSETS: AssetFetcher;
}
export interface ApiContext {
  request: Request;
  env: ApiEnv;
  params: Record<string, string | string[] | undefined>;
}

export type ErrorStatus = 400 | 404 | 405 | 500 | 503;

/** An error a client is meant to read: the status and a sentence naming the problem. */
export class ApiError extends Error {
  constructor(readonly status: ErrorStatus, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export const ALLOW = 'GET, HEAD, OPTIONS';
/**
 * Vectors change only when a deployment replaces the bundles. A minute of
 * freshness keeps slider drags off the network for positions already seen; after
 * that a revalidation costs one 304, and a stale answer may be used briefly while
 * it happens. Every body carries modelVersion, so a client can tell a mismatch.
 */
export const API_CACHE_CONTROL = 'public, max-age=60, stale-while-revalidate=600';
/** Longest query string accepted; a full mix of MAX_MIX_TERMS long names fits well inside. */
export const MAX_QUERY_LENGTH = 4096;

const COMMON_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'ETag, Content-Length',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
};

const JSON_TYPE = 'application/json; charset=utf-8';
const encoder = new TextEncoder();

function headers(extra: Record<string, string>): Headers {
  return new Headers({ ...COMMON_HEADERS, ...extra });
}

/** Quotes user text for an error message: short, escaped, never a control character. */
export function shown(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

export function errorResponse(status: ErrorStatus, message: string, request?: Request): Response {
  const body = encoder.encode(JSON.stringify({ error: message }));
  const h = headers({ 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-store', 'Content-Length': String(body.byteLength) });
  if (status === 405) h.set('Allow', ALLOW);
  return new Response(request?.method === 'HEAD' ? null : body, { status, headers: h });
}

/** A strong ETag from the body bytes: the first 128 bits of SHA-256, base64url. */
export async function contentEtag(body: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
  let bin = '';
  for (const b of digest.subarray(0, 16)) bin += String.fromCharCode(b);
  return `"${btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}"`;
}

/** RFC 9110 If-None-Match: weak comparison against a list of tags, or "*". */
export function etagMatches(ifNoneMatch: string | null, etag: string): boolean {
  if (ifNoneMatch === null) return false;
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  const want = strip(etag);
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || strip(tag) === want;
  });
}

/** 200 with a JSON body and its ETag, or 304 when the client already has it; HEAD gets the headers alone. */
export async function jsonResponse(request: Request, value: unknown): Promise<Response> {
  // TextEncoder always returns a fresh ArrayBuffer-backed array; some lib typings just don't say so.
  const body = encoder.encode(JSON.stringify(value)) as Uint8Array<ArrayBuffer>;
  const etag = await contentEtag(body);
  const h = headers({ 'Content-Type': JSON_TYPE, 'Cache-Control': API_CACHE_CONTROL, ETag: etag });
  if (etagMatches(request.headers.get('If-None-Match'), etag)) return new Response(null, { status: 304, headers: h });
  h.set('Content-Length', String(body.byteLength));
  return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers: h });
}

export function preflightResponse(): Response {
  return new Response(null, {
    status: 204,
    headers: headers({
      Allow: ALLOW,
      'Access-Control-Allow-Methods': ALLOW,
      'Access-Control-Allow-Headers': 'Accept, Accept-Language, Cache-Control, Content-Language, Content-Type, If-None-Match',
      'Access-Control-Max-Age': '86400',
      'Cache-Control': 'public, max-age=86400',
    }),
  });
}

/** One path parameter, percent-decoded. The Pages router hands params over still encoded. */
export function pathParam(params: ApiContext['params'], key: string): string {
  const raw = params[key];
  if (typeof raw !== 'string' || raw.length === 0) throw new ApiError(404, `the path has no ${key}`);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ApiError(400, `the ${key} in the path is not valid percent-encoding: ${shown(raw)}`);
  }
}

export function checkModelId(id: string): string {
  if (!ID_PATTERN.test(id)) throw new ApiError(400, `${shown(id)} is not a valid model id (lowercase letters, digits and "-", at most 40); GET /api/models lists the models`);
  return id;
}

export function checkAttributeName(name: string): string {
  if (!ATTRIBUTE_NAME_PATTERN.test(name)) throw new ApiError(400, `${shown(name)} is not a valid attribute name (a letter, then letters, digits or "_", at most 40)`);
  return name;
}

/**
 * The query as name/value pairs, bounded in size. With `allowed`, any other
 * name and any repeated name is an error; without it the route reads the pairs itself.
 */
export function queryPairs(url: URL, allowed?: readonly string[]): [string, string][] {
  if (url.search.length > MAX_QUERY_LENGTH) throw new ApiError(400, `the query string is ${url.search.length} characters long; at most ${MAX_QUERY_LENGTH} are accepted`);
  const pairs = [...url.searchParams];
  if (allowed) {
    const seen = new Set<string>();
    for (const [name] of pairs) {
      if (!allowed.includes(name)) {
        const takes = allowed.length ? `it takes ${allowed.join(', ')}` : 'it takes none';
        throw new ApiError(400, `unknown query parameter ${shown(name)} (${takes})`);
      }
      if (seen.has(name)) throw new ApiError(400, `query parameter ${name} is given more than once`);
      seen.add(name);
    }
  }
  return pairs;
}

export interface RouteInput {
  context: ApiContext;
  request: Request;
  url: URL;
}

/**
 * Wraps a GET handler into a Pages `onRequest`: GET and HEAD run it, OPTIONS
 * answers a CORS preflight, anything else is 405. The handler returns the JSON
 * body or throws ApiError; any other exception is logged and answered with a
 * plain JSON 500 that shows no stack.
 */
export function route(handler: (input: RouteInput) => Promise<unknown>): (context: ApiContext) => Promise<Response> {
  return async (context) => {
    const { request } = context;
    if (request.method === 'OPTIONS') return preflightResponse();
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return errorResponse(405, `method ${shown(request.method)} is not allowed here; this API answers ${ALLOW}`, request);
    }
    try {
      const url = new URL(request.url);
      return await jsonResponse(request, await handler({ context, request, url }));
    } catch (e) {
      return failure(e, request);
    }
  };
}

/** The response for an exception: ApiError as it says, anything else a logged 500 without detail. */
export function failure(e: unknown, request?: Request): Response {
  if (e instanceof ApiError) return errorResponse(e.status, e.message, request);
  console.error('api: unexpected failure', e);
  return errorResponse(500, 'internal error; the failure has been logged', request);
}

/** Whether a response under /api/ came from one of our routes rather than the static fallback. */
export function isApiResponse(response: Response): boolean {
  return response.status === 204 || response.status === 304 || (response.headers.get('Content-Type') ?? '').startsWith('application/json');
}
