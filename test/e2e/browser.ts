/**
 * The browser of the end-to-end tests: Debian's Chromium with real WebGL on
 * SwiftShader and nothing fetched from outside (the flags the benches use,
 * bench/chromium.ts), on a fresh profile folder per test file; and the
 * listener that collects what a page reports as broken, which each file
 * checks at its end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../bench/chromium.ts';

/** For a browser with WebGL switched off everywhere (pages and workers alike): the same flags, without SwiftShader. */
export const NO_WEBGL_ARGS = ['--disable-3d-apis', '--disable-gpu', ...CHROMIUM_ARGS.filter((a) => !a.includes('swiftshader'))];

type LaunchOptions = NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>;

export interface TestBrowser {
  context: BrowserContext;
  /** Closes the browser and removes its profile folder. */
  close(): Promise<void>;
}

/** A headless context, 1280 × 900 unless `options` say otherwise (they may also replace the flags). */
export async function launchBrowser(options: LaunchOptions = {}): Promise<TestBrowser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'latent-atelier-chromium-'));
  const removeProfile = () => rmSync(profile, { recursive: true, force: true });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: CHROMIUM_ARGS,
      ...options,
    });
  } catch (e) {
    removeProfile();
    throw e;
  }
  return {
    context,
    close: async () => {
      await context.close();
      removeProfile();
    },
  };
}

/** Adds `page`'s uncaught exceptions and console errors to `errors`, each after `label` where one is given. */
export function watchErrors(page: Page, errors: string[], label?: string): Page {
  const where = label === undefined ? '' : `${label}: `;
  page.on('pageerror', (e) => errors.push(`${where}${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${where}console: ${m.text()}`);
  });
  return page;
}
