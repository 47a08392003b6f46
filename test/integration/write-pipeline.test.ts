/**
 * One write path: a rule added to the pipeline's list (here through the
 * `writeChecks` option) holds at every door — the Hocuspocus socket, the
 * y-websocket endpoint, REST writes and restore — and an update it refuses is
 * neither stored nor applied nor broadcast. Each "not broadcast" ends on a
 * positive barrier: a later, allowed edit that the observer does receive.
 */
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { CloseCode, documentCloseReason } from '../../client/protocol.ts'
import type { CollabServer } from '../../server/app.ts'
import { Refusal, type WriteCheck } from '../../server/pipeline/write.ts'
import { closes, storedText } from '../helpers/auth.ts'
import { provider, settled } from '../helpers/clients.ts'
import { call, docPath, httpBase, makeUpdate } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const WORD = 'FORBIDDEN'

/** The rule under test: no inserted text may contain WORD (from any door). */
function forbidWord(): WriteCheck & { enabled: boolean; doors: string[] } {
  return {
    name: 'forbid-word',
    enabled: true,
    doors: [],
    check(write) {
      if (!this.enabled) return undefined
      for (const w of write.effects().writes) {
        const content = w.item.content
        if (content instanceof Y.ContentString && content.str.includes(WORD)) {
          this.doors.push(write.door)
          return new Refusal(CloseCode.PolicyViolation, `text contains ${WORD}`)
        }
      }
      return undefined
    },
  }
}

async function setup() {
  const rule = forbidWord()
  const server = await startServer(TOKEN_MODE, { writeChecks: [rule] })
  const token = await tokenFor('ada', { 'team/*': 'admin' })
  const observer = provider(server.url, DOC, { token: await tokenFor('obs', { 'team/*': 'read' }) })
  const allowed = provider(server.url, DOC, { token })
  await Promise.all([settled(observer), settled(allowed)])
  return { rule, server, token, observer, allowed }
}

/** After a refused write: the allowed edit reaches the observer, the refused text is nowhere. */
async function expectNowhere(server: CollabServer, observer: ReturnType<typeof provider>, allowed: ReturnType<typeof provider>, marker: string): Promise<void> {
  allowed.document.getText('text').insert(0, marker)
  await vi.waitFor(() => expect(observer.document.getText('text').toString()).toContain(marker))
  expect(observer.document.getText('text').toString()).not.toContain(WORD)
  expect(server.hocuspocus.documents.get(DOC)!.getText('text').toString()).not.toContain(WORD)
  await settled(allowed)
  expect(await storedText(server, DOC)).not.toContain(WORD)
}

const DOC = 'team/pipeline'

describe('one write pipeline for every door', () => {
  it('socket (Hocuspocus provider): refused, the document closed for that connection with the check’s code', async () => {
    const { rule, server, token, observer, allowed } = await setup()
    const offender = provider(server.url, DOC, { token })
    await settled(offender)
    const closed = closes(offender)
    offender.document.getText('text').insert(0, `${WORD} from the socket`)
    await vi.waitFor(() => expect(closed.map((c) => c.reason)).toContain(documentCloseReason(CloseCode.PolicyViolation)))
    await expectNowhere(server, observer, allowed, 'after socket. ')
    expect(rule.doors).toEqual(['socket'])
  })

  it('y-websocket endpoint: refused the same way', async () => {
    const { rule, server, token, observer, allowed } = await setup()
    const doc = new Y.Doc()
    const yws = new WebsocketProvider(server.url.replace(/\/ws$/, '/yws'), DOC, doc, { params: { token }, disableBc: true, connect: true })
    onTestFinished(() => yws.destroy())
    const codes: number[] = []
    yws.on('connection-close', (event) => codes.push(event?.code ?? 0))
    await vi.waitFor(() => expect(yws.synced).toBe(true))
    yws.shouldConnect = false
    doc.getText('text').insert(0, `${WORD} from y-websocket`)
    await vi.waitFor(() => expect(codes).toContain(CloseCode.PolicyViolation.code))
    await expectNowhere(server, observer, allowed, 'after yws. ')
    expect(rule.doors).toEqual(['yws'])
  })

  it('REST write: 422 policy-violation, nothing stored, applied or broadcast', async () => {
    const { rule, server, token, observer, allowed } = await setup()
    const base = httpBase(server.url)
    const update = makeUpdate((d) => d.getText('text').insert(0, `${WORD} over REST`), Y.encodeStateAsUpdate(server.hocuspocus.documents.get(DOC)!))
    const r = await call(base, 'POST', docPath(DOC, '/updates'), { token, body: update })
    expect([r.status, r.json.error]).toEqual([422, 'policy-violation'])
    await expectNowhere(server, observer, allowed, 'after REST. ')
    expect(rule.doors).toEqual(['rest'])
  })

  it('restore: the server’s own write goes through the same checks (refused, nothing changed)', async () => {
    const { rule, server, token, observer, allowed } = await setup()
    const base = httpBase(server.url)
    rule.enabled = false
    allowed.document.getText('text').insert(0, `${WORD} in an old version`)
    await settled(allowed)
    const version = (await call(base, 'POST', docPath(DOC, '/versions'), { token, body: { label: 'old' } })).json as { id: number }
    const text = allowed.document.getText('text')
    text.delete(0, text.length)
    await settled(allowed)
    await vi.waitFor(() => expect(observer.document.getText('text').toString()).toBe(''))
    rule.enabled = true
    const r = await call(base, 'POST', docPath(DOC, `/versions/${version.id}/restore`), { token })
    expect([r.status, r.json.error]).toEqual([422, 'policy-violation'])
    await expectNowhere(server, observer, allowed, 'after restore. ')
    expect(rule.doors).toEqual(['restore'])
  })
})
