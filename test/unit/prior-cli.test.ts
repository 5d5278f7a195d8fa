/** npm run prior's flags: each bad one gets a clear message and exit code 2 before any data is read. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const prior = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'training/prior-cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

describe('npm run prior', () => {
  it('refuses bad flags with a message', () => {
    const b = ['--bundle', 'public/models/faces'];
    const cases: [string[], RegExp][] = [
      [[], /--bundle is required/],
      [[...b, '--try', 'flow'], /--try takes gmm-K .* or diffusion, got "flow"/],
      [[...b, '--try', 'gmm-10,gmm-40'], /trying several densities needs --judge-data/],
      [[...b, '--measure-only'], /--measure-only needs --judge-data/],
      [[...b, '--settle', '1,two'], /--settle takes round-trip counts from 0 to 32, comma-separated, got "1,two"/],
      [[...b, '--settle', '40'], /--settle takes round-trip counts from 0 to 32/],
      [[...b, '--relax', '0'], /--relax must be a number above 0 and at most 3, got "0"/],
      [[...b, '--relax', 'fast'], /--relax must be a number above 0 and at most 3, got "fast"/],
      [[...b, '--count', '5'], /--count must be a whole number >= 10, got "5"/],
      [['--bundle', 'public/models/digits'], /is not a face bundle with an encoder/],
    ];
    for (const [args, message] of cases) {
      const r = prior(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('--help lists the settle and measure-only flags', () => {
    const r = prior(['--help']);
    expect(r.status).toBe(0);
    for (const flag of ['--bundle', '--judge-data', '--try', '--settle', '--relax', '--measure-only', '--temperature']) expect(r.stdout).toContain(flag);
  });
});
