/**
 * fleet-serving: the fleet as a flow graph, drawn as plain SVG (a node-link diagram with labelled
 * edges is not a chart; vega-lite has no graph layout). Columns follow the layer ranges, source on
 * the left and sink on the right; each node shows its layers and load (inflow / capacity), each
 * edge its flow / capacity, with width proportional to the flow. A load bar chart sits beside it.
 */
import type { FleetBreakdown } from '../../formulations/fleet-serving/evaluate.ts';
import { SINK, SOURCE, type FleetDecision, type FleetProblem } from '../../formulations/fleet-serving/schema.ts';
import { stackedBars } from '../chart.ts';
import { esc, PALETTE, short, svgDocument, text } from '../svg.ts';
import type { DrawInput, Figure } from '../types.ts';
import { isRecord, pct } from '../units.ts';

interface Box {
  readonly name: string;
  readonly x: number;
  readonly y: number;
  readonly lines: readonly string[];
  readonly fill: string;
}

const BOX_W = 150;
const BOX_H = 58;
const COL_GAP = 90;
const ROW_GAP = 22;
/** Columns per band: a long chain wraps onto the next band instead of shrinking to illegibility. */
const PER_BAND = 6;

function capacityOf(p: FleetProblem, from: string, to: string): number {
  const index = (name: string): number => p.nodes.findIndex((n) => n.name === name);
  if (from === SOURCE) return p.sourceCapacity[index(to)] ?? 0;
  if (to === SINK) return p.sinkCapacity[index(from)] ?? 0;
  const a = index(from);
  const b = index(to);
  return p.links.find((l) => l.from === a && l.to === b)?.capacity ?? 0;
}

export function fleetGraphSvg(p: FleetProblem, d: FleetDecision, b: FleetBreakdown): string {
  const starts = [...new Set(d.placement.map((x) => x.firstLayer))].sort((x, y) => x - y);
  const columns: string[][] = [
    [SOURCE],
    ...starts.map((s) => d.placement.filter((x) => x.firstLayer === s).map((x) => x.node)),
    [SINK],
  ];
  const tallest = Math.max(...columns.map((c) => c.length));
  const bandHeight = tallest * (BOX_H + ROW_GAP) + 40;
  const bands = Math.ceil(columns.length / PER_BAND);
  const height = bands * bandHeight + 30;
  const boxes = new Map<string, Box>();
  columns.forEach((column, c) => {
    const band = Math.floor(c / PER_BAND);
    const top = band * bandHeight + (bandHeight - column.length * (BOX_H + ROW_GAP)) / 2 + 10;
    column.forEach((name, r) => {
      const x = 20 + (c % PER_BAND) * (BOX_W + COL_GAP);
      const y = top + r * (BOX_H + ROW_GAP);
      if (name === SOURCE || name === SINK) {
        boxes.set(name, {
          name,
          x,
          y,
          lines: [name, name === SOURCE ? `${short(b.routedTokensPerSecond)} tok/s in` : ''],
          fill: '#eeeeee',
        });
        return;
      }
      const node = b.nodes.find((n) => n.node === name);
      const place = d.placement.find((x) => x.node === name);
      const load = node?.inflowTokensPerSecond ?? null;
      const cap = node?.capacityTokensPerSecond ?? 0;
      boxes.set(name, {
        name,
        x,
        y,
        lines: [
          name,
          `layers ${place?.firstLayer ?? '?'}–${place?.lastLayer ?? '?'}`,
          load === null
            ? `capacity ${short(cap)} tok/s`
            : `${short(load)} / ${short(cap)} tok/s (${pct(cap > 0 ? load / cap : 0)})`,
        ],
        fill: PALETTE[starts.indexOf(place?.firstLayer ?? 0) % PALETTE.length],
      });
    });
  });
  const perRow = Math.min(columns.length, PER_BAND);
  const width = 40 + perRow * BOX_W + (perRow - 1) * COL_GAP;
  const flows = (d.routing ?? []).filter((f) => f.tokensPerSecond > 1e-9);
  const maxFlow = Math.max(1e-12, ...flows.map((f) => f.tokensPerSecond));
  const edges = flows.map((f) => {
    const a = boxes.get(f.from);
    const z = boxes.get(f.to);
    if (a === undefined || z === undefined) return '';
    const x1 = a.x + BOX_W;
    const y1 = a.y + BOX_H / 2;
    const x2 = z.x;
    const y2 = z.y + BOX_H / 2;
    const w = 1 + 5 * (f.tokensPerSecond / maxFlow);
    const cap = capacityOf(p, f.from, f.to);
    const label = `${short(f.tokensPerSecond)} / ${Number.isFinite(cap) ? short(cap) : '∞'}`;
    const mx = (x1 + x2) / 2;
    const my = (y1 + y2) / 2;
    // Onto the next band: leave rightwards and arrive from the left, an S across the gap.
    const pull = Math.max(60, (x2 - x1) / 2);
    return (
      `<path d="M${x1},${y1} C${x1 + pull},${y1} ${x2 - pull},${y2} ${x2},${y2}" fill="none" stroke="#555" ` +
      `stroke-opacity="0.7" stroke-width="${w.toFixed(2)}" marker-end="url(#arrow)"/>\n` +
      `<rect x="${mx - 42}" y="${my - 9}" width="84" height="14" rx="3" fill="white" fill-opacity="0.85"/>\n` +
      text(mx, my + 2, label, 'text-anchor="middle" font-size="10"')
    );
  });
  const nodes = [...boxes.values()].map((box) => {
    const isEnd = box.name === SOURCE || box.name === SINK;
    const lines = box.lines
      .filter((l) => l !== '')
      .map((l, i) =>
        text(
          box.x + BOX_W / 2,
          box.y + 17 + i * 15,
          l,
          `text-anchor="middle" fill="${isEnd ? '#222' : 'white'}"${i === 0 ? ' font-weight="bold"' : ' font-size="11"'}`,
        ),
      );
    return (
      `<g><title>${esc(box.lines.join(', '))}</title><rect x="${box.x}" y="${box.y}" width="${BOX_W}" height="${BOX_H}" rx="8" ` +
      `fill="${box.fill}" stroke="#333"/>\n${lines.join('\n')}</g>`
    );
  });
  const defs =
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto">' +
    '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>';
  const legend = text(
    20,
    height - 8,
    'edge label: flow / link capacity (tokens/s); node: inflow / capacity',
    'font-size="11" fill="#555"',
  );
  return svgDocument(
    width,
    height,
    [`<rect width="100%" height="100%" fill="white"/>`, defs, ...edges, ...nodes, legend].join('\n'),
  );
}

export async function drawFleet(input: DrawInput<FleetProblem>): Promise<Figure[]> {
  const raw = input.evaluation.breakdown;
  const decision = input.decision as FleetDecision;
  if (!isRecord(raw) || !Array.isArray(raw.nodes) || !Array.isArray(decision.placement)) return [];
  const b = raw as unknown as FleetBreakdown;
  const figures: Figure[] = [
    {
      kind: 'svg',
      engine: 'svg',
      title: `The fleet as a flow graph: ${short(b.routedTokensPerSecond)} tokens/s routed`,
      svg: fleetGraphSvg(input.problem, decision, b),
      caption:
        `${b.pipelines} pipeline(s), ${b.idleNodes} idle node(s); the placement's maximum flow is ` +
        `${short(b.placementMaxFlowTokensPerSecond)} tokens/s`,
    },
  ];
  figures.push(
    await stackedBars({
      title: 'Load per node (tokens/s) against its throughput at its layer count',
      data: b.nodes.map((n) => ({
        category: `${n.node} (${n.firstLayer}–${n.lastLayer})`,
        part: 'inflow',
        value: n.inflowTokensPerSecond ?? 0,
      })),
      capacity: b.nodes.map((n) => ({
        category: `${n.node} (${n.firstLayer}–${n.lastLayer})`,
        value: n.capacityTokensPerSecond,
      })),
      categoryTitle: 'node (layers)',
      valueTitle: 'tokens/s',
      partTitle: '',
    }),
  );
  return figures;
}
