/**
 * The page's side of share links: what the address bar says on arrival, and
 * the address to show once a point is pinned. The codec itself is
 * lib/latent-url.ts; this only turns its verdict into what the page does.
 */
import { decodeShareQuery, encodeShareQuery, linkModelVersion, quantizeLatent } from '../../../lib/latent-url.ts';

export type Arrival =
  | { kind: 'none' }
  | { kind: 'point'; z: [number, number] }
  | { kind: 'other-version'; z: [number, number]; message: string }
  | { kind: 'invalid'; message: string };

export interface PlaneModel {
  version: string;
  latentDim: number;
}

/** Reads `?z=` for a 2-D model. No `z` at all is not an error: the visitor just arrived. */
export function readArrival(search: string, model: PlaneModel): Arrival {
  const params = new URLSearchParams(search);
  if (!params.has('z')) return { kind: 'none' };
  const result = decodeShareQuery(params, { version: linkModelVersion(model.version), latentDim: model.latentDim });
  if (!result.ok) return { kind: 'invalid', message: result.message };
  const z: [number, number] = [result.state.z[0]!, result.state.z[1]!];
  if (!result.versionMatches) return { kind: 'other-version', z, message: result.message };
  return { kind: 'point', z };
}

/** The query string for a pinned point, keeping unrelated parameters (such as `backend`, and `bundle`: the model it was made on). */
export function pinnedSearch(currentSearch: string, z: readonly number[], version: string): string {
  const params = new URLSearchParams(currentSearch);
  params.delete('z');
  params.delete('a');
  const share = encodeShareQuery({ z: quantizeLatent(z), sliders: [] }, linkModelVersion(version));
  // ":" and "/" need no escaping in a query: bundle=local:trained stays readable.
  const rest = params.toString().replace(/%3A/gi, ':').replace(/%2F/gi, '/');
  return `?${share}${rest ? `&${rest}` : ''}`;
}

/** The point as the page shows it: rounded to float16 first, so a link restores it bit for bit. */
export function displayPoint(z1: number, z2: number): [number, number] {
  const q = quantizeLatent([z1, z2]);
  return [q[0]!, q[1]!];
}

/** "−1.234" with a real minus sign, for the read-out. */
export function formatCoordinate(v: number, digits = 3): string {
  const s = (Object.is(v, -0) ? 0 : v).toFixed(digits);
  return s.startsWith('-') ? `\u2212${s.slice(1)}` : s;
}
