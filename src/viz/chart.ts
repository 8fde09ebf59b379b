/**
 * vega-lite charts for the pictures, rendered to SVG with vega's headless view (the bench report's
 * renderer, src/bench/plot.ts). A chart grammar fits everything that is bars, ticks, rectangles on
 * axes and lines: memory against capacity, time breakdowns, the layer strip, a pipeline timeline,
 * heat maps and sweep plots. Only the fleet's flow graph is drawn as plain SVG (src/viz/svg.ts).
 */
import { renderSvg, VEGA_LITE_SCHEMA, type TopLevelSpec } from '../bench/plot.ts';
import type { SvgFigure } from './types.ts';

export type Datum = Record<string, string | number | boolean | null>;

const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 220 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  background: 'white',
};

/** Renders a vega-lite spec (given without $schema/config) to a figure. */
export async function chart(title: string, spec: Record<string, unknown>, caption?: string): Promise<SvgFigure> {
  const full = { $schema: VEGA_LITE_SCHEMA, config: CONFIG, ...spec } as unknown as TopLevelSpec;
  const svg = await renderSvg(full);
  return { kind: 'svg', title, svg, engine: 'vega-lite', ...(caption !== undefined ? { caption } : {}) };
}

/** Height of a chart with one band per category. */
export function bandHeight(categories: number, band = 26): number {
  return Math.max(60, Math.min(1200, categories * band));
}

export interface StackedBarsOptions {
  readonly title: string;
  /** One row per (category, part): the part's value in the display unit. */
  readonly data: readonly { category: string; part: string; value: number }[];
  /** A tick per category at its capacity, in the display unit. */
  readonly capacity?: readonly { category: string; value: number }[];
  readonly categoryTitle: string;
  readonly valueTitle: string;
  readonly partTitle: string;
  /** Order of the parts in the stack and legend. */
  readonly parts?: readonly string[];
  readonly width?: number;
  readonly caption?: string;
}

/** Horizontal stacked bars (one per category), with a black tick at each category's capacity. */
export async function stackedBars(o: StackedBarsOptions): Promise<SvgFigure> {
  const categories = [...new Set([...o.data.map((d) => d.category), ...(o.capacity ?? []).map((c) => c.category)])];
  const y = { field: 'category', type: 'nominal', title: o.categoryTitle, sort: categories };
  const partOrder = o.parts ?? [...new Set(o.data.map((d) => d.part))];
  const layers: Record<string, unknown>[] = [
    {
      data: { values: o.data.map((d) => ({ ...d, order: partOrder.indexOf(d.part) })) },
      mark: { type: 'bar' },
      encoding: {
        y,
        x: { field: 'value', type: 'quantitative', title: o.valueTitle, stack: 'zero' },
        color: { field: 'part', type: 'nominal', title: o.partTitle, sort: partOrder },
        order: { field: 'order', type: 'quantitative' },
        tooltip: [{ field: 'category' }, { field: 'part' }, { field: 'value', format: '.4~g' }],
      },
    },
  ];
  if (o.capacity !== undefined && o.capacity.length > 0) {
    layers.push({
      data: { values: o.capacity.map((c) => ({ ...c, what: 'capacity' })) },
      mark: { type: 'tick', color: 'black', thickness: 2, size: 22 },
      encoding: { y, x: { field: 'value', type: 'quantitative' } },
    });
  }
  return chart(
    o.title,
    {
      width: o.width ?? 520,
      height: bandHeight(categories.length),
      layer: layers,
      resolve: { scale: { x: 'shared' } },
    },
    o.caption,
  );
}

export interface IntervalsOptions {
  readonly title: string;
  /** One rectangle per row: [start, end) on x, a band on y, a colour group, an optional label. */
  readonly data: readonly { row: string; start: number; end: number; group: string; label?: string }[];
  readonly rowTitle: string;
  readonly xTitle: string;
  readonly groupTitle: string;
  readonly rows?: readonly string[];
  readonly groups?: readonly string[];
  readonly width?: number;
  readonly band?: number;
  readonly caption?: string;
  /** Integer ticks (layer numbers) rather than continuous ones. */
  readonly integerAxis?: boolean;
}

/** Rectangles on a shared x axis, one band per row: the layer strip and the pipeline timeline. */
export async function intervals(o: IntervalsOptions): Promise<SvgFigure> {
  const rows = o.rows ?? [...new Set(o.data.map((d) => d.row))];
  const groups = o.groups ?? [...new Set(o.data.map((d) => d.group))];
  const y = { field: 'row', type: 'nominal', title: o.rowTitle, sort: rows };
  const values = o.data.map((d) => ({ ...d, label: d.label ?? '' }));
  return chart(
    o.title,
    {
      width: o.width ?? 720,
      height: bandHeight(rows.length, o.band ?? 30),
      data: { values },
      encoding: { y },
      layer: [
        {
          mark: { type: 'bar', stroke: 'white', strokeWidth: 1 },
          encoding: {
            x: {
              field: 'start',
              type: 'quantitative',
              title: o.xTitle,
              ...(o.integerAxis === true ? { axis: { tickMinStep: 1, format: 'd' } } : {}),
            },
            x2: { field: 'end' },
            color: { field: 'group', type: 'nominal', title: o.groupTitle, sort: groups },
            tooltip: [{ field: 'row' }, { field: 'group' }, { field: 'label' }, { field: 'start' }, { field: 'end' }],
          },
        },
        {
          mark: { type: 'text', color: 'white', fontSize: 10, baseline: 'middle' },
          encoding: {
            x: { field: 'mid', type: 'quantitative' },
            text: { field: 'label' },
          },
          transform: [{ calculate: '(datum.start + datum.end) / 2', as: 'mid' }],
        },
      ],
    },
    o.caption,
  );
}

export interface HeatmapOptions {
  readonly title: string;
  readonly data: readonly { x: string; y: string; value: number; label?: string }[];
  readonly xTitle: string;
  readonly yTitle: string;
  readonly valueTitle: string;
  readonly xs?: readonly string[];
  readonly ys?: readonly string[];
  readonly caption?: string;
  readonly scheme?: string;
}

/** A matrix of coloured cells with their values written in: experts × servers, models × servers. */
export async function heatmap(o: HeatmapOptions): Promise<SvgFigure> {
  const xs = o.xs ?? [...new Set(o.data.map((d) => d.x))];
  const ys = o.ys ?? [...new Set(o.data.map((d) => d.y))];
  const cell = Math.max(4, Math.min(48, Math.floor(900 / Math.max(1, xs.length))));
  const x = { field: 'x', type: 'ordinal', title: o.xTitle, sort: xs };
  const y = { field: 'y', type: 'ordinal', title: o.yTitle, sort: ys };
  return chart(
    o.title,
    {
      width: Math.max(120, xs.length * cell),
      height: Math.max(60, Math.min(1400, ys.length * Math.min(cell, 24))),
      data: { values: o.data.map((d) => ({ ...d, label: d.label ?? '' })) },
      encoding: { x, y },
      layer: [
        {
          mark: { type: 'rect', stroke: 'white' },
          encoding: {
            color: {
              field: 'value',
              type: 'quantitative',
              title: o.valueTitle,
              scale: { scheme: o.scheme ?? 'blues' },
            },
            tooltip: [{ field: 'x' }, { field: 'y' }, { field: 'value', format: '.4~g' }],
          },
        },
        ...(xs.length <= 40 && ys.length <= 60
          ? [{ mark: { type: 'text', fontSize: 9 }, encoding: { text: { field: 'label' } } }]
          : []),
      ],
    },
    o.caption,
  );
}

export interface LinesOptions {
  readonly title: string;
  readonly data: readonly { x: number; y: number; series: string; facet?: string }[];
  readonly xTitle: string;
  readonly yTitle: string;
  readonly seriesTitle: string;
  readonly facetTitle?: string;
  readonly caption?: string;
}

/** Objective against a parameter, one line per method (and one panel per second parameter). */
export async function lines(o: LinesOptions): Promise<SvgFigure> {
  const faceted = o.data.some((d) => d.facet !== undefined);
  const inner = {
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.xTitle, scale: { zero: false } },
      y: { field: 'y', type: 'quantitative', title: o.yTitle, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: o.seriesTitle },
      tooltip: [{ field: 'series' }, { field: 'x' }, { field: 'y', format: '.6~g' }],
    },
  };
  const values = o.data.map((d) => ({ ...d }));
  const spec = faceted
    ? {
        data: { values },
        facet: { field: 'facet', type: 'nominal', title: o.facetTitle ?? '' },
        columns: 3,
        spec: { width: 260, height: 180, ...inner },
      }
    : { data: { values }, width: 560, height: 300, ...inner };
  return chart(o.title, spec, o.caption);
}
