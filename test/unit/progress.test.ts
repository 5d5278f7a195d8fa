import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { ProgressBar, formatDuration } from '../../training/progress';

/** A non-terminal stream that records what is written, like a CI log. */
function logStream() {
  const lines: string[] = [];
  const s = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  return { s, lines };
}

describe('progress bar', () => {
  it('in a log, draws the first update at once, then at most every 10 s, and always the end', () => {
    const { s, lines } = logStream();
    const bar = new ProgressBar({ total: 100, label: 'epoch 1/1', unit: 'img', stream: s });
    bar.update(1, 'loss 3.00');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^epoch 1\/1 .* 1\/100 .*img\/s ETA .* loss 3\.00\n$/);
    bar.update(2);
    bar.update(50);
    expect(lines).toHaveLength(1);
    bar.update(100);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/█{24} 100\/100/);
  });

  it('formats durations as mm:ss or h:mm:ss', () => {
    expect(formatDuration(65)).toBe('01:05');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(NaN)).toBe('--:--');
  });
});
