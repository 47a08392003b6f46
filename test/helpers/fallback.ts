/**
 * A raw HTTP fallback client for protocol-level tests (docs/protocol.md#http-fallback):
 * requests through node:http (so any Origin can be sent), and a stream reader
 * that collects the Server-Sent Events as they arrive.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { onTestFinished, vi } from 'vitest'
import { Fallback, encodeFrames } from '../../client/protocol.ts'

export interface Answer {
  status: number
  headers: IncomingMessage['headers']
  body: string
  json: () => Record<string, unknown>
}

/** The fallback base of a server's socket URL (ws://h/ws → http://h/ws/fallback). */
export const baseOf = (socketUrl: string) => `${socketUrl.replace(/^ws/, 'http')}/fallback`

/** One plain request. */
export function call(url: string, options: { method?: string; headers?: Record<string, string>; body?: Uint8Array } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) as Record<string, unknown> })
      })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

export interface Who {
  token?: string
  origin?: string
}

function headersOf(who: Who, session?: string, extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { 'content-type': Fallback.contentType, ...extra }
  if (who.token) h.authorization = `Bearer ${who.token}`
  if (who.origin) h.origin = who.origin
  if (session) h[Fallback.sessionHeader] = session
  return h
}

/** Open a session; returns its id (throws on any other answer than 201). */
export async function openSession(base: string, who: Who = {}): Promise<string> {
  const answer = await call(base, { method: 'POST', headers: headersOf(who) })
  if (answer.status !== 201) throw new Error(`open: ${answer.status} ${answer.body}`)
  return answer.json().session as string
}

/** POST frames numbered from `seq`. */
export function post(base: string, session: string, seq: number, frames: Uint8Array[], who: Who = {}, extra: Record<string, string> = {}): Promise<Answer> {
  return call(`${base}/send`, { method: 'POST', headers: headersOf(who, session, { [Fallback.seqHeader]: String(seq), ...extra }), body: encodeFrames(frames) })
}

export interface StreamEvent {
  id?: number
  event: string
  data: string
}

export interface OpenStream {
  status: number
  headers: IncomingMessage['headers']
  events: StreamEvent[]
  /** Frames (the `message` events), decoded. */
  frames(): Uint8Array[]
  ended: Promise<void>
  close(): void
}

/** Open the session's stream (resuming after `lastEventId`); events collect in `events` as they arrive. */
export function openStream(base: string, session: string, who: Who = {}, lastEventId?: number): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const extra: Record<string, string> = lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) }
    const req = httpRequest(`${base}/stream`, { headers: headersOf(who, session, extra) }, (res) => {
      const events: StreamEvent[] = []
      let text = ''
      let endedResolve = () => {}
      const ended = new Promise<void>((r) => (endedResolve = r))
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
        let at: number
        while ((at = text.indexOf('\n\n')) >= 0) {
          const block = text.slice(0, at)
          text = text.slice(at + 2)
          const e: StreamEvent = { event: 'message', data: '' }
          const lines = block.split('\n').filter((line) => !line.startsWith(':'))
          for (const line of lines) {
            if (line.startsWith('id: ')) e.id = Number(line.slice(4))
            else if (line.startsWith('event: ')) e.event = line.slice(7)
            else if (line.startsWith('data: ')) e.data += line.slice(6)
          }
          if (lines.length > 0) events.push(e)
        }
      })
      res.on('end', endedResolve)
      res.on('close', endedResolve)
      const stream: OpenStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        frames: () => events.filter((e) => e.event === 'message').map((e) => new Uint8Array(Buffer.from(e.data, 'base64'))),
        ended,
        close: () => req.destroy(),
      }
      onTestFinished(() => {
        req.destroy()
      })
      resolve(stream)
    })
    req.on('error', (error) => {
      if (!req.destroyed) reject(error)
    })
    req.end()
  })
}

/** Wait until the stream has an event that `match` accepts; returns it. */
export async function waitForEvent(stream: OpenStream, match: (e: StreamEvent) => boolean, timeout = 10_000): Promise<StreamEvent> {
  return vi.waitFor(
    () => {
      const found = stream.events.find(match)
      if (!found) throw new Error(`no such event yet among ${stream.events.length}`)
      return found
    },
    { timeout, interval: 10 },
  )
}

/** The close event of a stream, parsed, once it came. */
export async function closeOf(stream: OpenStream): Promise<{ code: number; reason: string }> {
  const e = await waitForEvent(stream, (e) => e.event === 'close')
  return JSON.parse(e.data) as { code: number; reason: string }
}
