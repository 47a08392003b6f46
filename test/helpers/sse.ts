/**
 * A Server-Sent Events reader for tests, on fetch (as a backend would read
 * the stream): every event and comment as it arrives, the status, and why
 * the stream ended. Aborted when the test ends.
 */
import { onTestFinished, vi } from 'vitest'

export interface SseEvent {
  id?: string
  event: string
  data: string
}

export interface SseStream {
  status: number
  headers: Headers
  /** The body of a refusal (JSON), when status is not 200. */
  error?: { error: string; message: string }
  readonly events: SseEvent[]
  readonly comments: string[]
  /** Resolves when the server ended the stream (or it was aborted). */
  ended: Promise<void>
  /** The `data` of the `close` event the server ended with, parsed. */
  closeReason(): string | undefined
  /** Drop the connection (the client side). */
  abort(): void
  /** Wait until `test` holds of the events received. */
  until(test: (events: SseEvent[]) => boolean, timeout?: number): Promise<void>
}

export async function openSse(url: string, options: { token?: string; lastEventId?: string } = {}): Promise<SseStream> {
  const controller = new AbortController()
  onTestFinished(() => controller.abort())
  const headers: Record<string, string> = { accept: 'text/event-stream' }
  if (options.token) headers.authorization = `Bearer ${options.token}`
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId
  const res = await fetch(url, { headers, signal: controller.signal })
  const events: SseEvent[] = []
  const comments: string[] = []
  const stream: SseStream = {
    status: res.status,
    headers: res.headers,
    events,
    comments,
    ended: Promise.resolve(),
    closeReason: () => {
      const close = events.find((e) => e.event === 'close')
      return close ? (JSON.parse(close.data) as { reason: string }).reason : undefined
    },
    abort: () => controller.abort(),
    until: (test, timeout = 10_000) =>
      vi.waitFor(() => {
        if (!test(events)) throw new Error(`not yet: ${events.length} events`)
      }, { timeout, interval: 10 }),
  }
  if (res.status !== 200) {
    stream.error = (await res.json()) as SseStream['error']
    return stream
  }
  stream.ended = (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of res.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true })
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event: SseEvent = { event: 'message', data: '' }
          let isEvent = false
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              comments.push(line.slice(1).trim())
              continue
            }
            if (line.startsWith('id: ')) event.id = line.slice(4)
            else if (line.startsWith('event: ')) event.event = line.slice(7)
            else if (line.startsWith('data: ')) event.data += line.slice(6)
            else continue
            isEvent = true
          }
          if (isEvent) events.push(event)
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error
    }
  })()
  return stream
}

/** The envelopes of the feed's events (not `close`). */
export const envelopes = (events: SseEvent[]) =>
  events.filter((e) => e.event !== 'close').map((e) => JSON.parse(e.data) as { id: string; type: string; document: string; actor: string; data: Record<string, unknown> })
