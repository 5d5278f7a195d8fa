/**
 * A latent map's legend: one button per class, in the digits palette
 * (legend__item, legend__button, legend__swatch; styled by
 * components/studio/ClassLegend.astro), which highlights that class's
 * points; pressing it again shows all of them alike. Used by the digits
 * explorer and the training page.
 */
import { classColor } from '../digits/plane-data.ts';

/** How many of `labels` carry each class 0..classes-1. */
export function labelCounts(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l >= 0 && l < classes) counts[l]!++;
  }
  return counts;
}

export function buildLegend(list: HTMLElement, labels: ArrayLike<number>, classes: readonly string[], onHighlight: (label: number | null) => void): void {
  const counts = labelCounts(labels, classes.length);
  list.replaceChildren(
    ...classes.map((name, i) => {
      const li = document.createElement('li');
      li.className = 'legend__item';
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'legend__button';
      button.setAttribute('aria-pressed', 'false');
      button.setAttribute('aria-label', `${name}: ${counts[i]} test digits; highlight`);
      const swatch = document.createElement('span');
      swatch.className = 'legend__swatch';
      swatch.style.background = classColor(i);
      button.append(swatch, document.createTextNode(name));
      button.addEventListener('click', () => {
        const on = button.getAttribute('aria-pressed') !== 'true';
        for (const b of list.querySelectorAll('button')) b.setAttribute('aria-pressed', 'false');
        button.setAttribute('aria-pressed', String(on));
        onHighlight(on ? i : null);
      });
      li.append(button);
      return li;
    }),
  );
}
