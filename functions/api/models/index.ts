/** GET /api/models: the models deployed, in index.json order. */
import { queryPairs, route } from '../../_lib/http.ts';
import { bundles, DataError, modelSummary } from '../../_lib/store.ts';

export const onRequest = route(async ({ context, url }) => {
  queryPairs(url, []);
  const assets = context.env.ASSETS;
  const models = [];
  for (const id of await bundles.modelIds(assets, url.origin)) {
    try {
      const model = await bundles.model(assets, url.origin, id);
      if (model) models.push(modelSummary(model, url.origin));
    } catch (e) {
      // One broken bundle must not hide the others; its own routes report it.
      if (!(e instanceof DataError)) throw e;
      console.error(`api: model ${id} left out of /api/models: ${e.message}`);
    }
  }
  return { models };
});
