/** The map's legend: one button per digit class, which highlights that class's points. */
import type { LatentMap } from '../../../lib/bundle.ts';
import { classColor, classCounts } from './plane-data.ts';
import type { DigitsStudio } from './studio.ts';

export function buildLegend(s: DigitsStudio, data: LatentMap): void {
  const legend = s.el.legend;
  const counts = classCounts(data);
  legend.replaceChildren(
    ...data.classes.map((name, i) => {
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
        for (const b of legend.querySelectorAll('button')) b.setAttribute('aria-pressed', 'false');
        button.setAttribute('aria-pressed', String(on));
        s.view?.highlight(on ? i : null);
      });
      li.append(button);
      return li;
    }),
  );
}
