/**
 * What a load run drives: one target process (every scenario but scale-out),
 * or several instances of one target sharing services (scale-out: instances +
 * redis-server + PostgreSQL). Each instance is its own process, measured on
 * its own; the services are measured beside them.
 */
import type { ProcSample } from '../lib/proc.ts'
import { type RunningTarget, startTarget } from '../lib/spawn.ts'
import type { TargetSpec } from '../lib/targets.ts'

/** A shared process the run measures beside the instances. */
export interface ServiceProbe {
  name: string
  /** CPU (and RSS) now, or undefined if it is gone. */
  sample(): ProcSample | undefined
  /** Whether its RSS means anything (false for PostgreSQL: backends share their buffers). */
  rss: boolean
}

export interface Deployment {
  spec: TargetSpec
  /** At least one. */
  instances: RunningTarget[]
  services: ServiceProbe[]
  /** Stop every instance (by PID); not the services, which outlive one deployment. */
  stop(): Promise<void>
}

/** The default: one target process. */
export async function singleTarget(spec: TargetSpec, env?: Record<string, string>): Promise<Deployment> {
  const target = await startTarget(spec, { env })
  return { spec, instances: [target], services: [], stop: () => target.stop() }
}

/**
 * `count` instances of `spec`, started one after another (schema set-up on a
 * shared database is not raced), each with `env(i)`. If one fails to start,
 * the ones already running are stopped before the error goes on.
 */
export async function startInstances(spec: TargetSpec, count: number, env: (i: number) => Record<string, string>, services: ServiceProbe[]): Promise<Deployment> {
  const instances: RunningTarget[] = []
  const stop = async () => {
    await Promise.all(instances.map((t) => t.stop()))
  }
  try {
    for (let i = 0; i < count; i++) instances.push(await startTarget(spec, { env: env(i) }))
  } catch (error) {
    await stop()
    throw error
  }
  return { spec, instances, services, stop }
}
