/**
 * Plots: vega-lite specifications compiled with vega-lite and rendered to SVG by vega's
 * headless view (renderer 'none' — no canvas, no browser). Nothing here draws SVG by hand.
 */
import type { TopLevelSpec } from 'vega-lite';

export type { TopLevelSpec } from 'vega-lite';

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Compiles a vega-lite spec and renders it to an SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // vega and vega-lite load here, on the first drawing: importing them costs more than the rest of the API (issue 18).
  const [{ compile }, { parse, View }] = await Promise.all([import('vega-lite'), import('vega')]);
  const { spec: vegaSpec } = compile(spec);
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A file-name-safe slug. */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
