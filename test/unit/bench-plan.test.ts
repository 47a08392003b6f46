import { describe, expect, it } from 'vitest'
import type { Workload } from '../../bench/report/schema.ts'
import { planClients } from '../../bench/run/load-run.ts'

const w: Workload = { clients: 400, docs: 40, rate: 1, durationSec: 20, warmupSec: 5, kind: 'text', realClients: 4, workers: 1 }

describe('bench client planning', () => {
  it('leaves single-target plans without instances', () => {
    const { specs, rooms, instanceOf } = planClients(w)
    expect(instanceOf).toBeUndefined()
    expect(specs.every((s) => s.instance === undefined)).toBe(true)
    expect(Object.keys(rooms)).toHaveLength(40)
  })

  it('spreads every room over every instance, evenly, real pairs on different instances', () => {
    for (const n of [2, 3]) {
      const { specs, rooms, instanceOf } = planClients({ ...w, instances: n })
      expect(instanceOf).toEqual(specs.map((s) => s.instance))
      for (const members of Object.values(rooms)) {
        const per = Array.from({ length: n }, (_, i) => members.filter((id) => instanceOf?.[id] === i).length)
        expect(per.every((c) => c > 0)).toBe(true)
        expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(1)
      }
      const real = specs.filter((s) => s.real)
      expect(real).toHaveLength(4)
      for (const room of new Set(real.map((s) => s.room))) {
        const pair = real.filter((s) => s.room === room)
        expect(new Set(pair.map((s) => s.instance)).size).toBe(pair.length)
      }
    }
  })

  it('puts everyone on instance 0 with one instance', () => {
    const { specs } = planClients({ ...w, instances: 1 })
    expect(specs.every((s) => s.instance === 0)).toBe(true)
  })
})
