/**
 * What the HTTP fallback costs: the same editors on this server, over
 * WebSockets (`collab`) and over the fallback (`collab-http`: POSTed frames,
 * Server-Sent Events back), side by side — latency, and CPU per delivery.
 */
import { runCases, workload } from './load.ts'
import type { Scenario } from './types.ts'

export const fallback: Scenario = {
  name: 'fallback',
  description: '200 editors on 20 documents, 1 edit/s, over WebSockets and over the HTTP fallback: latency and CPU per delivery side by side',
  defaultTargets: ['collab', 'collab-http'],
  run: (targets, o) =>
    runCases(
      [{ name: 'fallback', workload: workload({ clients: 200, docs: 20, rate: 1, durationSec: 20, warmupSec: 5, kind: 'text', realClients: 4, workers: 1 }, o) }],
      targets,
    ),
}
