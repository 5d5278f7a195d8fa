/**
 * GET /api/models/:id/mix?Smiling=0.8&Blond_Hair=-0.5: the weighted sum of
 * attribute vectors, so a client needs one request per slider change.
 */
import { ApiError, checkModelId, pathParam, queryPairs, route } from '../../../../lib/api/http.ts';
import { requireModel } from '../../../../lib/api/store.ts';
import { MAX_MIX_TERMS, mixVectors, norm, parseMixTerms } from '../../../../lib/attributes.ts';

export const onRequest = route(async ({ context, url }) => {
  const id = checkModelId(pathParam(context.params, 'id'));
  const pairs = queryPairs(url);
  // Counted before any name is looked at, so a long list of unknown names is still "too many".
  if (pairs.length > MAX_MIX_TERMS) throw new ApiError(400, `too many attributes in one mix: ${pairs.length} (at most ${MAX_MIX_TERMS})`);
  const model = await requireModel(context.env.ASSETS, url.origin, id);
  if (!model.attributes) throw new ApiError(404, `model ${id} has no attribute vectors to mix`);
  const parsed = parseMixTerms(pairs, model.names);
  if (!parsed.ok) throw new ApiError(parsed.status, parsed.error);
  const { latentDim } = model.manifest;
  const mixed = mixVectors(model.vectors, parsed.terms, latentDim);
  return {
    model: id,
    modelVersion: model.manifest.version,
    latentDim,
    terms: parsed.terms,
    norm: float32Json(norm(mixed)),
    // Nine significant digits round-trip a float32 and keep the JSON short.
    vector: Array.from(mixed, float32Json),
  };
});

function float32Json(x: number): number {
  return Number(x.toPrecision(9));
}
