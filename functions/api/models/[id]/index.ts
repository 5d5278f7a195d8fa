/** GET /api/models/:id: one model's summary, as listed by /api/models. */
import { checkModelId, pathParam, queryPairs, route } from '../../../_lib/http.ts';
import { modelSummary, requireModel } from '../../../_lib/store.ts';

export const onRequest = route(async ({ context, url }) => {
  const id = checkModelId(pathParam(context.params, 'id'));
  queryPairs(url, []);
  return modelSummary(await requireModel(context.env.ASSETS, url.origin, id), url.origin);
});
