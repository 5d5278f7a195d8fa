/**
 * Runs around every /api/* request. Routes answer in JSON themselves; this
 * turns whatever fell through to the static site (a path no route matches,
 * such as /api//models) into a JSON 404, and any unexpected exception into a
 * JSON 500 without a stack trace.
 */
import { errorResponse, failure, isApiResponse, shown } from '../../lib/api/http.ts';

interface MiddlewareContext {
  request: Request;
  next(): Promise<Response>;
}

export async function onRequest({ request, next }: MiddlewareContext): Promise<Response> {
  try {
    const response = await next();
    if (isApiResponse(response)) return response;
    await response.body?.cancel();
    return errorResponse(404, `no API route at ${shown(new URL(request.url).pathname)}; GET /api/models lists the models`, request);
  } catch (e) {
    return failure(e, request);
  }
}
