/** GET /api/models/:id/attributes: the attribute names with their example counts and norms. */
import { checkModelId, pathParam, queryPairs, route } from '../../../../../lib/api/http.ts';
import { requireModel } from '../../../../../lib/api/store.ts';

export const onRequest = route(async ({ context, url }) => {
  const id = checkModelId(pathParam(context.params, 'id'));
  queryPairs(url, []);
  const model = await requireModel(context.env.ASSETS, url.origin, id);
  const attributes = model.attributes?.attributes ?? [];
  return {
    model: id,
    modelVersion: model.manifest.version,
    latentDim: model.manifest.latentDim,
    attributes: attributes.map(({ name, positives, negatives, norm }) => ({
      name,
      positives,
      negatives,
      norm,
      url: new URL(`/api/models/${id}/attributes/${name}`, url.origin).toString(),
    })),
    omitted: model.attributes?.omitted ?? [],
  };
});
