import { join } from 'node:path'
import { pino } from 'pino'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { CloseCode, type CloseCodeInfo, documentCloseReason, SyncStep } from '../../client/protocol.ts'
import { createCollabServer, type CollabServer } from '../../server/app.ts'
import { collabClient, roomSaved, texts } from '../helpers/collab.ts'
import { startServer, tempDir } from '../helpers/server.ts'

/** A server on a fixed port and database file, so it can be stopped and started again. */
async function serverAt(dbPath: string, port = 0): Promise<CollabServer> {
  const server = createCollabServer(
    { port, host: '127.0.0.1', dbPath, logLevel: 'silent' },
    { logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) },
  )
  await server.listen()
  onTestFinished(() => server.close())
  return server
}

describe('offline', () => {
  it('keeps messages and edits made while the server is down, and converges without loss or duplicates', async () => {
    const dbPath = join(tempDir(), 'collab.db')
    const first = await serverAt(dbPath)
    const port = Number(new URL(first.url).port)
    const annClient = collabClient(first.url, 'ann')
    const bobClient = collabClient(first.url, 'bob')
    const ann = annClient.room('r')
    const bob = bobClient.room('r')
    await Promise.all([ann.synced, bob.synced])
    ann.chat.send('before the outage')
    ann.codemirror.insert(0, 'shared text')
    await Promise.all([roomSaved(ann), roomSaved(bob)])
    await vi.waitFor(() => expect(texts(bob)).toEqual(['before the outage']))

    await first.close()
    await vi.waitFor(() => {
      expect(annClient.status).not.toBe('connected')
      expect(bobClient.status).not.toBe('connected')
    })

    // Both keep working offline.
    const offline = [
      ann.chat.send('ann offline 1'),
      bob.chat.send('bob offline 1'),
      ann.chat.send('ann offline 2'),
      bob.chat.send('bob offline 2'),
      ann.chat.send('ann offline 3'),
    ]
    ann.codemirror.insert(0, 'A: ')
    bob.codemirror.insert(bob.codemirror.length, ' :B')
    expect(offline.every((m) => m.status === 'pending')).toBe(true)
    expect(ann.unsaved && bob.unsaved).toBe(true)
    expect(ann.chat.get(offline[0]!.id)?.status).toBe('pending')

    // The server comes back on the same port and database.
    const second = await serverAt(dbPath, port)
    await vi.waitFor(
      () => {
        expect(annClient.status).toBe('connected')
        expect(bobClient.status).toBe('connected')
      },
      { timeout: 20_000 },
    )
    await Promise.all([roomSaved(ann, 20_000), roomSaved(bob, 20_000)])
    await vi.waitFor(() => {
      expect(texts(ann)).toHaveLength(6)
      expect(texts(bob)).toEqual(texts(ann))
      expect(bob.codemirror.toString()).toBe(ann.codemirror.toString())
    })
    expect(texts(ann).sort()).toEqual(
      ['before the outage', 'ann offline 1', 'ann offline 2', 'ann offline 3', 'bob offline 1', 'bob offline 2'].sort(),
    )
    expect(ann.codemirror.toString()).toBe('A: shared text :B')
    const ids = ann.chat.messages().map((m) => m.id)
    expect(new Set(ids).size).toBe(6)
    for (const m of offline) expect(ann.chat.get(m.id)?.status).toBe('saved')

    // It is all on the server: a fresh client sees exactly the same.
    const fresh = collabClient(second.url, 'cy').room('r')
    await fresh.synced
    expect(fresh.chat.messages().map((m) => m.id)).toEqual(ids)
    expect(fresh.codemirror.toString()).toBe('A: shared text :B')
  })
})

describe('delivery status', () => {
  it('stays unsaved until the server has stored the resync that carries the offline changes', async () => {
    // A test-only gate holds the server's handling of SyncStep2 frames (the resync after a reconnect).
    let hold = false
    let release = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    let updatesSeen = 0
    const server = await startServer(
      {},
      {
        extensions: [
          {
            async beforeSync({ type }: { type: number }) {
              if (type === SyncStep.Update && hold) updatesSeen += 1
              if (type === SyncStep.Step2 && hold) await gate
            },
          },
        ],
      },
    )
    const annClient = collabClient(server.url, 'ann')
    const ann = annClient.room('r')
    const bob = collabClient(server.url, 'bob').room('r')
    await Promise.all([ann.synced, bob.synced])

    annClient.pause()
    await vi.waitFor(() => expect(annClient.status).toBe('offline'))
    const sent = [ann.chat.send('one'), ann.chat.send('two')]
    hold = true
    annClient.resume()
    // The updates queued while offline arrive and are acknowledged...
    await vi.waitFor(() => expect(texts(bob)).toEqual(['one', 'two']))
    await vi.waitFor(() => expect(updatesSeen).toBe(2))
    const other = annClient.room('other')
    await other.synced
    // ...but the resync is not stored yet, so ann does not claim it is.
    expect(ann.unsaved).toBe(true)
    expect(sent.map((m) => ann.chat.get(m.id)?.status)).toEqual(['pending', 'pending'])

    release()
    await roomSaved(ann)
    expect(sent.map((m) => ann.chat.get(m.id)?.status)).toEqual(['saved', 'saved'])
  })
})

describe('a room closed by the server', () => {
  /** A server whose next update is refused with `code` (as a guard or storage failure would). */
  async function refusingServer(info: CloseCodeInfo) {
    const state = { refuse: false }
    const server = await startServer(
      {},
      {
        extensions: [
          {
            async beforeSync({ type }: { type: number }) {
              if (type !== SyncStep.Update || !state.refuse) return
              state.refuse = false
              throw Object.assign(new Error(info.reason), { code: info.code, reason: documentCloseReason(info) })
            },
          },
        ],
      },
    )
    return { server, state }
  }

  it('rejoins by itself after a close that allows a retry, and the change is stored', async () => {
    const { server, state } = await refusingServer(CloseCode.StorageUnavailable)
    const ann = collabClient(server.url, 'ann').room('r')
    const bob = collabClient(server.url, 'bob').room('r')
    await Promise.all([ann.synced, bob.synced])
    const closed: unknown[] = []
    ann.on('closed', (e) => closed.push(e))

    state.refuse = true
    const sent = ann.chat.send('second time lucky')
    await vi.waitFor(() => expect(closed).toMatchObject([{ code: CloseCode.StorageUnavailable.code, retry: true }]))
    await vi.waitFor(() => expect(texts(bob)).toEqual(['second time lucky']), { timeout: 10_000 })
    await roomSaved(ann)
    expect(ann.chat.get(sent.id)?.status).toBe('saved')
  })

  it('reports a close that says not to retry, and keeps the change unsaved', async () => {
    const { server, state } = await refusingServer(CloseCode.PolicyViolation)
    const ann = collabClient(server.url, 'ann').room('r')
    const bob = collabClient(server.url, 'bob').room('r')
    await Promise.all([ann.synced, bob.synced])
    const closed: unknown[] = []
    ann.on('closed', (e) => closed.push(e))

    state.refuse = true
    const sent = ann.chat.send('not allowed')
    await vi.waitFor(() => expect(closed).toEqual([{ code: CloseCode.PolicyViolation.code, reason: documentCloseReason(CloseCode.PolicyViolation), retry: false }]))
    expect(ann.isSynced).toBe(false)
    expect(ann.unsaved).toBe(true)
    expect(ann.chat.get(sent.id)?.status).toBe('pending')
    // Bob's room is untouched and never sees the refused message.
    bob.chat.send('carrying on')
    await roomSaved(bob)
    expect(texts(bob)).toEqual(['carrying on'])
  })
})
