/** `edgeplan profile` and `edgeplan calibrate`, run in process through the CLI's main(). */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.ts';
import { deviceSpecSchema } from '../../src/catalog/schemas.ts';
import { rooflineTime } from '../../src/cost/device.ts';
import { rowWork } from '../../src/cost/layers.ts';
import { main } from '../../src/cli/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeplan-cost-cli-'));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: dir, env: {} });
  return { code, out, err };
}

describe('edgeplan profile', () => {
  it('prints the Llama-2-7B table on an RTX 3090 with totals and the fit verdict', async () => {
    const r = await run('profile', 'llama-2-7b', '--device', 'rtx-3090');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.split('\n');
    expect(lines.filter((l) => /^\d+\s/.test(l)).length).toBe(32);
    expect(r.out).toMatch(/^embedding\s+131\.1M/m);
    expect(r.out).toMatch(/^1\s+202\.4M\s+405 MFLOP\s+8\.19 kB\s+16\.4 kB\s+405 MB\s+551 µs\s+memory$/m);
    expect(r.out).toMatch(/^total\s+6\.738B\s+13\.2 GFLOP\s+524 kB\s+13\.5 GB\s+18 ms/m);
    expect(r.out).toMatch(/13\.5 GB of 24 GB: fits/);
    expect(r.out).toMatch(/not used \(profile was measured in fp32/);
  });

  it('uses the EdgeShard profile at its conditions', async () => {
    const r = await run('profile', 'llama-2-7b', '--device', 'rtx-3090', '--dtype', 'fp32', '--seq', '4');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/used \(measured at batch 1 × 4 tokens in fp32\)/);
    expect(r.out).toMatch(/^1\s.*795 µs\s+measured$/m);
  });

  it('--json gives SI numbers and no times without a device', async () => {
    const withDevice = JSON.parse(
      (await run('profile', 'gpt2-medium', '--device', 'jetson-orin-nx-16gb', '--batch', '2', '--seq', '16', '--json'))
        .out,
    ) as {
      rows: Array<{ kind: string; activationBytes: number; seconds: number }>;
      totals: { params: number; seconds: number };
    };
    expect(withDevice.rows.length).toBe(26);
    expect(withDevice.rows[1].activationBytes).toBe(2 * 16 * 1024 * 2);
    expect(withDevice.totals.seconds).toBeGreaterThan(0);
    const bare = JSON.parse((await run('profile', 'gpt2-medium', '--json')).out) as {
      rows: Array<Record<string, unknown>>;
      totals: Record<string, unknown>;
    };
    expect(bare.rows[1].seconds).toBeUndefined();
    expect(bare.totals.seconds).toBeUndefined();
    expect(bare.totals.params).toBe(354_823_168);
  });

  it('bad input exits 2 with the path and rule', async () => {
    const unknown = await run('profile', 'llama-2-7', '--device', 'rtx-3090');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^edgeplan: MODEL: unknown model "llama-2-7"; did you mean "llama-2-7b"/);
    writeFileSync(join(dir, 'bad-model.json'), JSON.stringify({ id: 'llama-2-7b', layers: 31.5 }));
    const frac = await run('profile', 'bad-model.json');
    expect(frac.code).toBe(2);
    expect(frac.err).toMatch(/\$\.layers: must be a whole number \(in bad-model\.json\)/);
    writeFileSync(join(dir, 'bad-device.json'), JSON.stringify({ id: 'rtx-3090', memoryBytes: -5 }));
    const neg = await run('profile', 'llama-2-7b', '--device', 'bad-device.json');
    expect(neg.code).toBe(2);
    expect(neg.err).toMatch(/\$\.memoryBytes: must be positive/);
    expect((await run('profile', 'llama-2-7b', '--dtype', 'fp12')).code).toBe(2);
    expect((await run('profile', 'llama-2-7b', '--seq', '8', '--context', '4')).err).toMatch(
      /--context \(4\) must be at least --seq \(8\)/,
    );
  });
});

describe('edgeplan calibrate', () => {
  const c = loadCatalog();
  const llama = c.models.get('llama-2-7b');
  const rtx = c.devices.get('rtx-3090');
  if (!llama || !rtx) throw new Error('catalog');
  const truth = { ...rtx, computeEfficiency: 0.55, bandwidthEfficiency: 0.7, perCallOverheadSeconds: 2e-5 };
  const lines = ['layer,device,batch,tokens,context,seconds'];
  for (const layer of ['decoder', 'embedding', 'head'] as const)
    for (const b of [1, 8, 32])
      for (const t of [1, 64, 512]) {
        const idx = layer === 'decoder' ? 1 : layer === 'embedding' ? 0 : llama.layers + 1;
        lines.push(
          `${layer},rtx-3090,${b},${t},${t},${rooflineTime(truth, rowWork(llama, layer, idx, { batch: b, tokens: t, contextTokens: t })).seconds}`,
        );
      }
  lines.push('decoder,phone,1,1,1,0.2');
  writeFileSync(join(dir, 'timings.csv'), `${lines.join('\n')}\n`);

  it('fits, writes a valid device entry, and profile accepts it', async () => {
    const r = await run(
      'calibrate',
      'timings.csv',
      '--device',
      'rtx-3090',
      '--model',
      'llama-2-7b',
      '--out',
      'fitted.json',
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/27 measurements \(1 for other devices skipped\)/);
    expect(r.out).toMatch(/computeEfficiency\s+0\.5500/);
    expect(r.out).toMatch(/bandwidthEfficiency\s+0\.7000/);
    const entry: unknown = JSON.parse(readFileSync(join(dir, 'fitted.json'), 'utf8'));
    expect(deviceSpecSchema.safeParse(entry).success).toBe(true);
    expect(entry).toMatchObject({ id: 'rtx-3090-calibrated', source: expect.stringMatching(/timings\.csv/) });
    const p = await run('profile', 'llama-2-7b', '--device', 'fitted.json');
    expect(p.code).toBe(0);
    expect(p.out).toMatch(/rtx-3090-calibrated/);
  });

  it('--json reports the fit errors', async () => {
    const r = await run(
      'calibrate',
      'timings.csv',
      '--device',
      'rtx-3090',
      '--model',
      'llama-2-7b',
      '--json',
      '--id',
      'my-3090',
    );
    const out = JSON.parse(r.out) as { fit: { maxRelativeError: number; rmseSeconds: number }; device: { id: string } };
    expect(out.fit.maxRelativeError).toBeLessThan(1e-6);
    expect(out.device.id).toBe('my-3090');
  });

  it('bad input exits 2', async () => {
    expect((await run('calibrate', 'timings.csv', '--device', 'rtx-3090')).err).toMatch(/name no model; pass --model/);
    expect((await run('calibrate', 'timings.csv', '--device', 'h100-sxm', '--model', 'llama-2-7b')).err).toMatch(
      /no measurement is for device "h100-sxm"/,
    );
    writeFileSync(join(dir, 'bad.csv'), 'layer,batch,tokens,seconds\ndecoder,1,1,-1\n');
    const bad = await run('calibrate', 'bad.csv', '--device', 'rtx-3090', '--model', 'llama-2-7b');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/\$\[0\]\.seconds: line 2: must be positive \(in bad\.csv\)/);
    expect((await run('calibrate', 'missing.csv', '--device', 'rtx-3090', '--model', 'llama-2-7b')).code).toBe(2);
  });
});
