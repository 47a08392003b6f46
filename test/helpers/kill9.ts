import { HocuspocusProvider } from '@hocuspocus/provider'
import { expect } from 'vitest'
import * as Y from 'yjs'
import { settled } from './clients.ts'
import { spawnServer } from './process.ts'

/**
 * Edit continuously and count every acknowledged edit (acks come only after
 * the disk write). Each edit is one transaction, so one update message and one
 * ack, and acks come back in order: when the provider's `unsyncedChanges`
 * drops by one, the oldest outstanding edit is acknowledged; when it reaches
 * 0, all are. After a disconnect the provider resets its counter, so single
 * decrements are not trusted again until it has reached 0.
 */
export class AckedWriter {
  readonly doc = new Y.Doc()
  readonly provider: HocuspocusProvider
  readonly acknowledged: number[] = []
  private readonly sent: number[] = []
  private timer: NodeJS.Timeout | undefined
  private readonly next: { value: number }

  /** `next` is the counter shared by all writers of a test, so numbers never repeat. */
  constructor(url: string, name: string, next: { value: number }) {
    this.next = next
    this.provider = new HocuspocusProvider({ url, name, token: 'open', document: this.doc })
    let last = 0
    let broken = false
    this.provider.on('close', () => (broken = true))
    this.provider.on('unsyncedChanges', ({ number }: { number: number }) => {
      if (number === 0) {
        this.acknowledged.push(...this.sent.splice(0))
        broken = false
      } else if (number === last - 1 && !broken && this.sent.length > 0) {
        this.acknowledged.push(this.sent.shift()!)
      }
      last = number
    })
  }

  /** Push `perTick` numbers every 2 ms until stopped. */
  start(perTick = 5): void {
    const edits = this.doc.getArray<number>('edits')
    this.timer = setInterval(() => {
      for (let i = 0; i < perTick; i++) {
        edits.push([this.next.value])
        this.sent.push(this.next.value++)
      }
    }, 2)
  }

  stop(): void {
    clearInterval(this.timer)
  }

  destroy(): void {
    this.stop()
    this.provider.destroy()
  }
}

/** Read the whole 'edits' array of a document with a fresh client. */
export async function readEdits(url: string, name: string): Promise<number[]> {
  const doc = new Y.Doc()
  const p = new HocuspocusProvider({ url, name, token: 'open', document: doc })
  try {
    await settled(p)
    return doc.getArray<number>('edits').toArray()
  } finally {
    p.destroy()
  }
}

/** Fail with the acknowledged numbers that are not stored. */
export function expectNoneMissing(acknowledged: number[], stored: number[], context: string): void {
  const have = new Set(stored)
  expect(acknowledged.filter((n) => !have.has(n)), `${context}: acknowledged edits missing`).toEqual([])
}

/**
 * The kill -9 test: a server child process with `env`, a client editing
 * continuously, SIGKILL at a random moment, restart on the same storage, and
 * every acknowledged edit must be there — `rounds` times. Returns how many
 * edits were acknowledged in all.
 */
export async function killNineRounds(env: Record<string, string>, name: string, rounds: number): Promise<number> {
  const next = { value: 0 }
  const acknowledged: number[] = []
  let server = await spawnServer(env)
  for (let round = 0; round < rounds; round++) {
    const writer = new AckedWriter(server.url, name, next)
    await settled(writer.provider)
    writer.start()
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 400))
    server.proc.kill('SIGKILL')
    await server.exited
    writer.destroy()
    acknowledged.push(...writer.acknowledged)
    server = await spawnServer(env, { port: server.port })
    expectNoneMissing(acknowledged, await readEdits(server.url, name), `round ${round}`)
  }
  server.proc.kill('SIGTERM')
  expect(await server.exited).toBe(0)
  return acknowledged.length
}
