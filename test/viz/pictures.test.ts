import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { XMLValidator } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { drawDecision, listKinds, showPictures, type ParsedProblem } from '../../src/api.ts';
import { DRAWERS } from '../../src/viz/index.ts';
import { inkShare, readPng } from './png.ts';
import { EXAMPLES, loadExample, quickDecision } from './support.ts';

interface Rendered {
  readonly parsed: ParsedProblem;
  readonly decision: unknown;
  readonly html: string;
  readonly svg: string;
}

const rendered = new Map<string, Rendered>();

beforeAll(async () => {
  for (const kind of Object.keys(EXAMPLES)) {
    const parsed = loadExample(kind);
    const decision = await quickDecision(parsed);
    // One drawing per kind for both the page and the SVG (vega renders each chart once).
    rendered.set(kind, { parsed, decision, ...(await showPictures(parsed, decision)) });
  }
}, 120_000);

/** Labels a practitioner looks for in each family's picture: names from the problem, ranges from the decision. */
function expectedLabels(kind: string, decision: unknown): string[] {
  const d = decision as Record<string, unknown>;
  switch (kind) {
    case 'pipeline-placement': {
      const stages = d.stages as { server: string; firstLayer: number; lastLayer: number }[];
      return [
        ...stages.map((s) => s.server),
        ...stages.map((s) => `${s.firstLayer}–${s.lastLayer}`),
        'forward',
        'backward',
      ];
    }
    case 'parallel-placement': {
      const stages = d.stages as { firstLayer: number; lastLayer: number; groups: { servers: string[] }[] }[];
      return [
        ...stages.flatMap((s) => s.groups.flatMap((g) => g.servers)),
        ...stages.map((s) => `${s.firstLayer}–${s.lastLayer}`),
        'VLLM_PP_LAYER_PARTITION',
        'forward',
      ];
    }
    case 'fleet-serving': {
      const placement = d.placement as { node: string; firstLayer: number; lastLayer: number }[];
      return [
        ...placement.map((p) => p.node),
        ...placement.map((p) => `layers ${p.firstLayer}–${p.lastLayer}`),
        'source',
        'sink',
      ];
    }
    case 'split-finetune':
      return ['jetson-agx', 'uplink', 'server, trained', 'Round time per client'];
    case 'kv-split-inference':
      return ['agx-1', 'shared weights', 'uplink', 'server step'];
    case 'moe-placement':
      return ['a100-host', 'orin', 'e0', 'tokens per batch'];
    case 'speculative-threshold':
      return ['good', 'bad', 'verify', 'draft'];
    case 'model-caching':
      return ['mec-a', 'llama-2-7b-ft/ft-1', 'Hit ratio per user'];
    case 'split-moe':
      return ['phones', 'robots', 'laptops', 'a100-site-a', 'l40s-site-b', 'access link', 'expert calls', 'e7'];
    case 'agent-placement':
      return ['user-1', 'user-6', 'perception', 'grounding', 'alignment', 'edge-a', 'critical path'];
    case 'milp':
      return ['capacity', 'item1'];
    default:
      return [];
  }
}

describe('pictures of every bundled family', () => {
  it('covers every registered kind with its own drawing (or says which fall back to the table)', () => {
    const withoutDrawing = listKinds().filter((k) => !Object.hasOwn(DRAWERS, k));
    // A new family renders through the generic table until it gets a drawing; this list says which.
    expect(withoutDrawing).toEqual(withoutDrawing.filter((k) => !Object.hasOwn(EXAMPLES, k)));
    for (const kind of Object.keys(EXAMPLES)) expect(Object.hasOwn(DRAWERS, kind)).toBe(true);
  });

  for (const kind of Object.keys(EXAMPLES)) {
    it(`${kind}: a self-contained page with the expected labels, and a well-formed SVG`, () => {
      const r = rendered.get(kind);
      expect(r).toBeDefined();
      if (r === undefined) return;
      expect(r.html.startsWith('<!DOCTYPE html>')).toBe(true);
      // Self-contained: no scripts, no external resources.
      expect(r.html).not.toMatch(/<script|<link |src="http|href="http/i);
      expect(r.html).toMatch(/<svg\b/);
      for (const label of expectedLabels(kind, r.decision)) expect(r.html, label).toContain(escape(label));
      expect(XMLValidator.validate(r.svg)).toBe(true);
      // Every figure of the page is also in the stacked SVG.
      const titles = [...r.html.matchAll(/<h3>([^<]*)<\/h3>/g)].map((m) => m[1]);
      expect(titles.length).toBeGreaterThan(0);
      for (const t of titles) expect(r.svg).toContain(t);
    });
  }

  it('draws any other kind as the decision table (the generic fallback) and shows violations', async () => {
    const parsed = loadExample('pipeline-placement');
    // A decision evaluate rejects is still drawn, with its violations listed under the picture.
    const decision = { stages: [{ server: 'agx-orin-32-b', firstLayer: 1, lastLayer: 24 }] };
    const figures = await drawDecision(parsed, decision);
    expect(figures[0].title).toMatch(/^Layers 1–24/);
    expect(figures[figures.length - 1].title).toMatch(/^Violations found by evaluate/);
    // A decision the drawing cannot read falls back to the table of its fields.
    const broken = { stages: [{ server: 'nowhere', firstLayer: 1, lastLayer: 24 }] };
    const fallback = await drawDecision(parsed, broken);
    expect(fallback.map((f) => f.title)).toEqual(['Decision', 'Violations found by evaluate (1)']);
  });
});

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const run = promisify(execFile);

function chromium(): string | null {
  for (const path of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'])
    if (existsSync(path)) return path;
  return null;
}

const browser = chromium();
if (browser === null) console.log('screenshot test skipped: no chromium (the CI installs the Debian package)');

describe.skipIf(browser === null)('screenshots in headless Chromium', () => {
  it('every page renders to a non-blank screenshot (one browser run, one band per family)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeplan-shots-'));
    const kinds = Object.keys(EXAMPLES);
    const band = 700;
    // One Chromium start for all pages (a start costs seconds): each page in its own iframe band,
    // shot at half scale (a quarter of the pixels to encode and decode; the ink test still sees the figures).
    const scale = 0.5;
    const frames = kinds
      .map((k) => {
        const html = (rendered.get(k)?.html ?? '').replace(/&/g, '&amp;').replace(/"/g, '&quot;');
        return `<iframe srcdoc="${html}" style="display:block;border:0;width:1200px;height:${band}px"></iframe>`;
      })
      .join('');
    const page = join(dir, 'all.html');
    const png = join(dir, 'all.png');
    writeFileSync(page, `<!DOCTYPE html><html><body style="margin:0">${frames}</body></html>`);
    await run(browser as string, [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      `--window-size=1200,${band * kinds.length}`,
      `--force-device-scale-factor=${scale}`,
      `--screenshot=${png}`,
      `file://${page}`,
    ]);
    const image = readPng(readFileSync(png));
    expect(image.width).toBe(1200 * scale);
    kinds.forEach((kind, i) => {
      // Below the title and facts table (the first ~250 px) the figures must put ink on the page.
      expect(inkShare(image, (i * band + 250) * scale, (i + 1) * band * scale), kind).toBeGreaterThan(0.02);
    });
  }, 120_000);
});
