/**
 * The end-of-run check that every copy agrees: for each room, a fresh client
 * fetches the server's full state (stateful targets) and we check it holds
 * every edit every client sent, exactly once; each real provider's document
 * must equal the server's (or, on the relay, its peers'). With several
 * instances (scale-out), the room is fetched through every instance, each
 * copy is checked the same way, and all copies must be equal.
 */
import WebSocket from 'ws'
import * as Y from 'yjs'
import { CHAT_NAME, TEXT_NAME, editsInDoc } from '../lib/edits.ts'
import { benchToken } from '../lib/bench-token.ts'
import { SyncStep, authFrame, readFrame, readSync, syncFrame } from '../lib/wire.ts'
import { MessageType } from '../lib/wire.ts'
import type { RealState, TargetAddress } from '../loadgen/messages.ts'
import type { Convergence } from '../report/schema.ts'

/** Fetch the full state of each room with one sync round trip per room. */
async function fetchRoom(address: TargetAddress, room: string, timeoutMs: number): Promise<Y.Doc> {
  const url = address.dialect === 'yws' ? `${address.url}/${encodeURIComponent(room)}` : address.url
  const doc = new Y.Doc()
  const token = await benchToken(address, -1)
  const ws = new WebSocket(url, { perMessageDeflate: false })
  ws.binaryType = 'arraybuffer'
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no full state for ${room} within ${timeoutMs} ms`)), timeoutMs)
      ws.on('open', () => {
        if (address.dialect === 'hocuspocus') ws.send(authFrame(room, token))
        ws.send(syncFrame(address.dialect, room, SyncStep.Step1, Y.encodeStateVector(doc)))
      })
      ws.on('message', (data: ArrayBuffer) => {
        const frame = readFrame(address.dialect, new Uint8Array(data))
        if (frame.type !== MessageType.Sync && frame.type !== MessageType.SyncReply) return
        const { step, payload } = readSync(frame.decoder)
        if (step === SyncStep.Step1) return
        // A server may send the state as an update first (this server's cold sync and shared answers), then the answer.
        Y.applyUpdate(doc, payload)
        if (step !== SyncStep.Step2) return
        clearTimeout(timer)
        resolve()
      })
      ws.on('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
    })
  } finally {
    ws.terminate()
  }
  return doc
}

/** Problems with a document that should hold exactly the edits `sent` lists (sender → count). */
function checkEdits(doc: Y.Doc, sent: Map<number, number>, what: string): string[] {
  const { edits, bad } = editsInDoc(doc)
  const problems: string[] = []
  if (bad > 0) problems.push(`${what}: ${bad} pieces of content that are not bench edits`)
  const seen = new Map<number, Set<number>>()
  let dup = 0
  let unexpected = 0
  for (const e of edits) {
    let s = seen.get(e.sender)
    if (!s) seen.set(e.sender, (s = new Set()))
    if (s.has(e.seq)) dup++
    s.add(e.seq)
    if (e.seq < 1 || e.seq > (sent.get(e.sender) ?? 0)) unexpected++
  }
  let missing = 0
  for (const [sender, count] of sent) {
    const s = seen.get(sender)
    for (let q = 1; q <= count; q++) if (!s?.has(q)) missing++
  }
  if (missing) problems.push(`${what}: ${missing} sent edits missing`)
  if (dup) problems.push(`${what}: ${dup} edits twice`)
  if (unexpected) problems.push(`${what}: ${unexpected} edits nobody sent`)
  return problems
}

function sameDoc(a: Y.Doc, b: Y.Doc): boolean {
  const va = Y.decodeStateVector(Y.encodeStateVector(a))
  const vb = Y.decodeStateVector(Y.encodeStateVector(b))
  if (va.size !== vb.size) return false
  for (const [client, clock] of va) if (vb.get(client) !== clock) return false
  return (
    a.getText(TEXT_NAME).toString() === b.getText(TEXT_NAME).toString() &&
    JSON.stringify(a.getArray(CHAT_NAME).toJSON()) === JSON.stringify(b.getArray(CHAT_NAME).toJSON())
  )
}

export interface ConvergenceInput {
  /** One per instance (one for a single target); stateful targets are read through each. */
  addresses: TargetAddress[]
  stateful: boolean
  /** room → member ids */
  rooms: Record<string, number[]>
  /** sender id → edits sent */
  sentBySender: Map<number, number>
  realStates: RealState[]
  timeoutMs?: number
}

export async function checkConvergence(input: ConvergenceInput): Promise<Convergence> {
  const problems: string[] = []
  let roomsChecked = 0
  let realClientsChecked = 0
  const timeoutMs = input.timeoutMs ?? 20_000
  const realByRoom = new Map<string, RealState[]>()
  for (const s of input.realStates) realByRoom.set(s.room, [...(realByRoom.get(s.room) ?? []), s])

  for (const [room, members] of Object.entries(input.rooms)) {
    const sent = new Map(members.map((id) => [id, input.sentBySender.get(id) ?? 0]))
    const reals = (realByRoom.get(room) ?? []).map((s) => {
      const doc = new Y.Doc()
      Y.applyUpdate(doc, s.update)
      return { id: s.id, doc }
    })
    let reference: Y.Doc | undefined
    const many = input.addresses.length > 1
    if (input.stateful) {
      for (const [i, address] of input.addresses.entries()) {
        const where = many ? `instance ${i}'s state of ${room}` : `server state of ${room}`
        try {
          const copy = await fetchRoom(address, room, timeoutMs)
          roomsChecked++
          problems.push(...checkEdits(copy, sent, where))
          if (!reference) reference = copy
          else if (!sameDoc(reference, copy)) problems.push(`${where} differs from instance 0's`)
        } catch (error) {
          problems.push(`${many ? `instance ${i}: ` : ''}${room}: ${error instanceof Error ? error.message : String(error)}`)
        }
      }
    }
    for (const real of reals) {
      realClientsChecked++
      problems.push(...checkEdits(real.doc, sent, `real client ${real.id} in ${room}`))
      reference ??= real.doc
      if (reference !== real.doc && !sameDoc(reference, real.doc)) {
        problems.push(`real client ${real.id} in ${room}: document differs from ${input.stateful ? (many ? "instance 0's copy" : 'the server') : 'its peer'}`)
      }
    }
  }
  const instancesChecked = input.addresses.length > 1 && input.stateful ? { instancesChecked: input.addresses.length } : {}
  return { ok: problems.length === 0, roomsChecked, ...instancesChecked, realClientsChecked, problems: problems.slice(0, 30) }
}
