/** Every /api/* path that no other route takes: a JSON 404 naming the path. */
import { errorResponse, preflightResponse, shown } from '../_lib/http.ts';

export async function onRequest({ request }: { request: Request }): Promise<Response> {
  if (request.method === 'OPTIONS') return preflightResponse();
  return errorResponse(404, `no API route at ${shown(new URL(request.url).pathname)}; GET /api/models lists the models`, request);
}
