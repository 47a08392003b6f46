import type { Awareness } from 'y-protocols/awareness'

type Change = { added: number[]; updated: number[]; removed: number[] }

/**
 * Resolve with the time (Date.now()) of the awareness `change` event in which
 * `clientId` is removed from `awareness`; reject when `deadlineMs` passes
 * first. Resolves at once if it is already gone.
 */
export function whenGone(awareness: Awareness, clientId: number, deadlineMs: number): Promise<number> {
  return whenChange(awareness, deadlineMs, `client ${clientId} to leave`, () => !awareness.getStates().has(clientId))
}

/** Like `whenGone`, for `clientId` appearing (or its state passing `test`). */
export function whenPresent(awareness: Awareness, clientId: number, deadlineMs: number, test: (state: Record<string, unknown>) => boolean = () => true): Promise<number> {
  return whenChange(awareness, deadlineMs, `client ${clientId} to be present`, () => {
    const state = awareness.getStates().get(clientId)
    return state !== undefined && test(state)
  })
}

function whenChange(awareness: Awareness, deadlineMs: number, what: string, done: () => boolean): Promise<number> {
  if (done()) return Promise.resolve(Date.now())
  return new Promise((resolve, reject) => {
    const onChange = () => {
      if (!done()) return
      finish()
      resolve(Date.now())
    }
    const timer = setTimeout(() => {
      finish()
      reject(new Error(`deadline (${deadlineMs} ms) passed waiting for ${what}`))
    }, deadlineMs)
    const finish = () => {
      clearTimeout(timer)
      awareness.off('change', onChange)
    }
    awareness.on('change', onChange)
  })
}

/** Every client id removed from `awareness`, in order, from now on (for "nobody left" checks). */
export function removals(awareness: Awareness): number[] {
  const seen: number[] = []
  awareness.on('change', ({ removed }: Change) => seen.push(...removed))
  return seen
}

/** The value of a gauge without labels in a Prometheus text exposition. */
export async function gauge(http: string, name: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  if (!line) throw new Error(`no ${name} in ${http}/metrics`)
  return Number(line.slice(name.length + 1))
}
