/** Every scenario, by name, in the priority order. */
import { coldLoad } from './cold-load.ts'
import { crowd, isolation } from './crowd.ts'
import { fallback } from './fallback.ts'
import { idle } from './idle.ts'
import { chat, durableAck, hotDoc, manyDocs, quick } from './load.ts'
import { ramp } from './ramp.ts'
import { restartStorm } from './restart-storm.ts'
import { scaleOut } from './scale-out.ts'
import { soak } from './soak.ts'
import type { Scenario } from './types.ts'

export const SCENARIOS: Scenario[] = [quick, manyDocs, hotDoc, idle, durableAck, ramp, coldLoad, chat, scaleOut, soak, fallback, restartStorm, crowd, isolation]

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name)
}
