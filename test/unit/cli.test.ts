import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;
const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'training/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

describe('npm run train', () => {
  it('prints its options with --help', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--resume/);
    expect(r.stdout).toMatch(/--float16/);
  });

  it('refuses bad input with a message naming it', () => {
    const bad: [string[], RegExp][] = [
      [['--epochs', 'many'], /--epochs must be an integer/],
      [['--bogus'], /Unknown option '--bogus'/],
      [['--dataset', 'imagenet'], /unknown --dataset "imagenet"/],
      [['--data-dir', '/nonexistent/mnist'], /\/nonexistent\/mnist: has none of train-images-idx3-ubyte/],
      [['--dataset', 'avatars'], /--dataset avatars needs --data-dir/],
      [['--export-now'], /use it with --resume/],
      [['--crop', '140'], /--crop applies to face sets/],
      [['--dataset', 'avatars', '--data-dir', '/nonexistent/faces', '--crop', '8'], /--crop is a width in source pixels .* 8 is too small/],
      [['--dataset', 'avatars', '--data-dir', '/nonexistent/faces', '--crop', 'tight'], /--crop must be an integer/],
      [['--new-phase', '--beta', '0.5'], /--new-phase continues a checkpoint .* use it with --resume/],
      [['--resume', '--checkpoint', '/nonexistent/x.ckpt', '--backend', 'cpu'], /checkpoint \/nonexistent\/x\.ckpt: does not exist/],
    ];
    for (const [args, message] of bad) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('Ctrl-C saves and stops; --resume finishes the run and exports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const args = ['--limit', '960', '--test-limit', '200', '--epochs', '1', '--batch', '32', '--backend', 'wasm', '--threads', '1', '--checkpoint', join(dir, 'run.ckpt'), '--out', join(dir, 'digits')];
    const child = spawn(process.execPath, ['--import', 'tsx', 'training/cli.ts', ...args], { cwd: ROOT });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      out += d;
      // The first progress line means batches are running: interrupt now.
      if (/epoch 1\/1 .*\d+\/960/.test(out) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(out).toMatch(/Ctrl-C: finishing this batch/);
    expect(out).toMatch(/Stopped at epoch 1, batch \d+\/30; checkpoint saved/);
    expect(code).toBe(0);
    expect(existsSync(join(dir, 'run.ckpt'))).toBe(true);
    expect(existsSync(join(dir, 'digits', 'manifest.json'))).toBe(false);

    const r = cli([...args, '--resume']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Resumed from .*run\.ckpt: epoch 1, batch \d+/);
    const manifest = JSON.parse(readFileSync(join(dir, 'digits', 'manifest.json'), 'utf8'));
    expect(manifest.training.epochs).toBe(1);
    expect(manifest.training.command).toMatch(/^npm run train -- --limit 960/);
    expect(manifest.training.resumedWith).toHaveLength(1);
    expect(manifest.dataset.train).toBe(960);
  });
});

describe('npm run data:avatars', () => {
  const avatars = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'training/data/avatars-cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

  it('refuses bad input with a message naming it', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'avatars-cli-')), 'set');
    const bad: [string[], RegExp][] = [
      [['--out', out], /--count is required/],
      [['--count', 'x', '--out', out], /--count must be a whole number, got "x"/],
      [['--count', '3'], /--out is required/],
      [['--count', '3', '--out', out, '--facial-hair-colour', 'purple'], /--facial-hair-colour must be one of dark, contrast, hair, got "purple"/],
      [['--count', '3', '--out', out, '--frame-colours', 'neon'], /--frame-colours must be one of dark, all, got "neon"/],
    ];
    for (const [args, message] of bad) {
      const r = avatars(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(existsSync(out)).toBe(false);
  });

  it("writes a set with the first data sets' beard and frame colours when asked", () => {
    const dir = mkdtempSync(join(tmpdir(), 'avatars-cli-'));
    const r = avatars(['--count', '4', '--out', join(dir, 'a'), '--facial-hair-colour', 'hair', '--frame-colours', 'all']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/wrote 4 images/);
    expect(readFileSync(join(dir, 'a', 'list_attr_celeba.txt'), 'utf8').split('\n')[0]).toBe('4');
  });
});

describe('npm run edits:by-look', () => {
  const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'training/edits-by-look.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

  it('refuses bad input with a message naming it', () => {
    const empty = mkdtempSync(join(tmpdir(), 'by-look-'));
    const listed = mkdtempSync(join(tmpdir(), 'by-look-'));
    writeFileSync(join(listed, 'list_eval_partition.txt'), '000001.jpg 2\n');
    const bad: [string[], RegExp][] = [
      [[], /--bundle and --data-dir are required/],
      [['--bundle', join(empty, 'nowhere'), '--data-dir', empty], /nowhere: no manifest\.json there; --bundle takes a bundle folder/],
      [['--bundle', 'public/models/faces', '--data-dir', empty], /no list_eval_partition\.txt there; --data-dir takes an avatar set/],
      [['--bundle', 'public/models/digits', '--data-dir', listed], /public\/models\/digits has no attribute vectors or no encoder: not a faces bundle/],
    ];
    for (const [args, message] of bad) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });
});
