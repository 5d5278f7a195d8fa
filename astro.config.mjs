// The static site: pages in site/, the committed model bundles in public/,
// everything built into dist/ for `wrangler pages dev dist` and Cloudflare Pages.
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'astro/config';

/** Where the tfjs WebAssembly backend's binaries are served; site/scripts/engine/tf-runtime.ts points setWasmPaths here. */
const WASM_ROUTE = '/tfjs-wasm/';
const WASM_SOURCE = new URL('./node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url);

/**
 * Serves the tfjs .wasm binaries from node_modules in `astro dev` and copies
 * them into the build, so they are never committed and always match the
 * installed @tensorflow/tfjs-backend-wasm.
 */
function tfjsWasmBinaries() {
  const wasmFiles = async () => (await readdir(WASM_SOURCE)).filter((f) => f.endsWith('.wasm'));
  return {
    name: 'latent-atelier:tfjs-wasm',
    hooks: {
      'astro:server:setup': ({ server }) => {
        server.middlewares.use(async (req, res, next) => {
          const path = (req.url ?? '').split('?')[0];
          if (!path.startsWith(WASM_ROUTE)) return next();
          const name = path.slice(WASM_ROUTE.length);
          if (!(await wasmFiles()).includes(name)) return next();
          res.setHeader('Content-Type', 'application/wasm');
          res.end(await readFile(new URL(name, WASM_SOURCE)));
        });
      },
      'astro:build:done': async ({ dir, logger }) => {
        const out = new URL(`.${WASM_ROUTE}`, dir);
        await mkdir(out, { recursive: true });
        const files = await wasmFiles();
        for (const f of files) await copyFile(new URL(f, WASM_SOURCE), new URL(f, out));
        logger.info(`copied ${files.length} tfjs wasm binaries to ${fileURLToPath(out)}`);
      },
    },
  };
}

export default defineConfig({
  srcDir: './site',
  publicDir: './public',
  outDir: './dist',
  output: 'static',
  // /digits, not /digits/: share links are /digits?z=...
  trailingSlash: 'never',
  build: { format: 'file' },
  integrations: [tfjsWasmBinaries()],
  vite: {
    // Nothing inlined: the site's CSP (public/_headers) allows scripts only from 'self'.
    // tfjs-core + tfjs-layers are one ~650 kB chunk (130 kB gzipped); each backend is its own lazy chunk.
    build: { assetsInlineLimit: 0, chunkSizeWarningLimit: 800 },
    // The decode worker (site/scripts/engine/decode-worker.ts) loads its backend lazily: ES module workers allow that split.
    worker: { format: 'es' },
  },
});
