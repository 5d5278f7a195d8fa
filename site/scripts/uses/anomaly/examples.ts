/** The test images under the pad: a click scores that image (and clears the drawing). */
import { fromBase64Url } from '../../../../lib/base64url.ts';
import type { AnomalyPage } from './page.ts';
import { clearStrokes } from './pad.ts';

/** An example's stored bytes as the model's input, 0 to 1. */
export function exampleInput(pixels: string): Float32Array {
  return Float32Array.from(fromBase64Url(pixels), (v) => v / 255);
}

export function bindExamples(p: AnomalyPage): void {
  const buttons = p.el.exampleButtons;
  for (const button of buttons) {
    button.setAttribute('aria-pressed', 'false');
    button.addEventListener('click', () => {
      const i = Number(button.dataset.example);
      const item = p.examples?.examples[i];
      if (!item || !p.examples) return;
      for (const b of buttons) b.setAttribute('aria-pressed', String(b === button));
      clearStrokes(p);
      void p.scheduler.request({ input: exampleInput(item.pixels), source: 'example', example: i });
    });
  }
}

/** The examples can be clicked once the model runs. */
export function enableExamples(p: AnomalyPage): void {
  for (const b of p.el.exampleButtons) b.disabled = false;
}
