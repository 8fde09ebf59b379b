/** What a picture of one solution is made of: figures (SVG drawings or tables), each with a title. */
import type { Evaluation } from '../formulations/types.ts';

/** Which tool drew a figure: a vega-lite chart, or plain SVG generated here (where a chart grammar does not fit). */
export type Engine = 'vega-lite' | 'svg';

export interface SvgFigure {
  readonly kind: 'svg';
  readonly title: string;
  /** A complete SVG document (width and height attributes set). */
  readonly svg: string;
  readonly engine: Engine;
  readonly caption?: string;
}

export interface TableFigure {
  readonly kind: 'table';
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly caption?: string;
}

export type Figure = SvgFigure | TableFigure;

/** Everything a family's drawing gets: the parsed problem, the decision and evaluate's verdict on it. */
export interface DrawInput<P = unknown> {
  readonly kind: string;
  readonly problem: P;
  readonly decision: unknown;
  readonly evaluation: Evaluation;
  readonly objectiveLabel: string;
}

/** One family's drawing: the figures a practitioner of that field would draw for one decision. */
export type Drawer<P = unknown> = (input: DrawInput<P>) => Promise<Figure[]>;
