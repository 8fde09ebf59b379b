import { readFileSync } from 'node:fs';
import type { BenchSuite } from '../types.ts';

type Raw = Record<string, unknown>;
type RawUser = Raw & { id: string; links: { server: string; link: unknown }[] };
type RawServer = Raw & { id: string };

function example(file: string): Raw {
  return JSON.parse(readFileSync(new URL(`../../../problems/agent-placement/${file}`, import.meta.url), 'utf8')) as Raw;
}

/**
 * The two-agent scenario repeated `copies` times: each copy brings its ten users and its three
 * servers, and every server is on the edge LAN with every other, so a copy's users may also be
 * served through another copy's servers (the copies are coupled, not independent).
 */
function replicated(copies: number, objective: string): Raw {
  const base = example('two-agents-10-users.json');
  const servers: RawServer[] = [];
  const users: RawUser[] = [];
  for (let c = 0; c < copies; c++) {
    for (const s of base.servers as RawServer[]) servers.push({ ...s, id: `${s.id}-${c}` });
    for (const u of base.users as RawUser[])
      users.push({ ...u, id: `${u.id}-${c}`, links: u.links.map((l) => ({ ...l, server: `${l.server}-${c}` })) });
  }
  const lan = { uplinkBitsPerSecond: 950e6, downlinkBitsPerSecond: 950e6, latencySeconds: 0.0021 };
  const edgeLinks = servers.flatMap((a, i) => servers.slice(i + 1).map((b) => ({ between: [a.id, b.id], link: lan })));
  return { ...base, description: `two-agents-10-users.json × ${copies}`, servers, users, edgeLinks, objective };
}

export const suite: BenchSuite = {
  kind: 'agent-placement',
  instances: () => [
    {
      name: 'assistant-3-modules',
      description: "003's agent (perception → grounding → alignment), 6 phones, 2 edge servers; worst latency",
      problem: example('assistant-3-modules.json'),
      methods: ['exact'],
      timeLimitSeconds: 10,
    },
    {
      name: 'two-agents-10-users',
      description:
        'Assistant and navigator (a diamond DAG, vision pinned to the phone), 10 users, 3 servers; mean latency',
      problem: example('two-agents-10-users.json'),
      methods: ['exact'],
      timeLimitSeconds: 10,
    },
    {
      name: 'two-agents-network',
      description: 'The two-agent scenario minimising network load under a 20 s SLO per user',
      problem: example('two-agents-network.json'),
      methods: ['exact'],
      timeLimitSeconds: 10,
    },
  ],
  scaling: () => [
    {
      parameter: 'users',
      points: [1, 2, 3, 4].map((copies) => ({ size: 10 * copies, problem: replicated(copies, 'worst-latency') })),
      methods: ['exact'],
      timeLimitSeconds: 30,
    },
    {
      parameter: 'users (mean latency)',
      points: [1, 2, 3, 4].map((copies) => ({ size: 10 * copies, problem: replicated(copies, 'mean-latency') })),
      methods: ['exact'],
      timeLimitSeconds: 30,
    },
  ],
};
