/**
 * Runs around every /api/* request. Routes answer in JSON themselves, and
 * catch their own failures; what reaches this code otherwise fell through to
 * the static site because no route matched (such as /api//models). That is
 * answered with a JSON 404, even when the static fallback itself failed.
 */
import { errorResponse, isApiResponse, shown } from '../_lib/http.ts';

interface MiddlewareContext {
  request: Request;
  next(): Promise<Response>;
}

export async function onRequest({ request, next }: MiddlewareContext): Promise<Response> {
  const notFound = () => errorResponse(404, `no API route at ${shown(new URL(request.url).pathname)}; GET /api/models lists the models`, request);
  let response: Response;
  try {
    response = await next();
  } catch (e) {
    console.error('api: the static fallback failed for a path no route takes', e);
    return notFound();
  }
  if (isApiResponse(response)) return response;
  await response.body?.cancel();
  return notFound();
}
