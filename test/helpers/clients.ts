import { HocuspocusProvider, HocuspocusProviderWebsocket, WebSocketStatus } from '@hocuspocus/provider'
import { onTestFinished, vi } from 'vitest'
import * as Y from 'yjs'
import { readFrameHead } from '../../client/acks.ts'
import { MessageType } from '../../client/protocol.ts'
import { updateFrame } from './raw.ts'

/** One real provider socket; destroyed when the test ends. */
export function socket(url: string): HocuspocusProviderWebsocket {
  const ws = new HocuspocusProviderWebsocket({ url, autoConnect: true })
  onTestFinished(() => ws.destroy())
  return ws
}

/** A real @hocuspocus/provider on `name`, attached to `ws` (or its own socket). */
export function provider(
  url: string,
  name: string,
  options: { ws?: HocuspocusProviderWebsocket; token?: string | (() => Promise<string>); doc?: Y.Doc } = {},
): HocuspocusProvider {
  const p = new HocuspocusProvider({
    websocketProvider: options.ws ?? socket(url),
    name,
    token: options.token ?? 'open',
    document: options.doc ?? new Y.Doc(),
  })
  // A provider on a shared socket does not attach itself.
  p.attach()
  onTestFinished(() => p.destroy())
  return p
}

/**
 * Take a provider socket offline and wait until it is: `disconnect()` only
 * starts the close, and a `connect()` before the close event is a no-op that
 * leaves the socket down for good (it still reads as connected).
 */
export async function offline(ws: HocuspocusProviderWebsocket): Promise<void> {
  if (ws.status === WebSocketStatus.Disconnected) return ws.disconnect()
  const closed = new Promise<void>((resolve) => {
    const onDisconnect = () => {
      ws.off('disconnect', onDisconnect)
      resolve()
    }
    ws.on('disconnect', onDisconnect)
  })
  ws.disconnect()
  await closed
}

/** Wait until the provider has synced and the server acknowledged every change. */
export async function settled(p: HocuspocusProvider, timeout = 15_000): Promise<void> {
  await vi.waitFor(
    () => {
      if (!p.synced || p.unsyncedChanges > 0) throw new Error(`not settled: synced=${p.synced} unsynced=${p.unsyncedChanges}`)
    },
    { timeout, interval: 10 },
  )
}

/**
 * A positive barrier on a provider's socket and document, once it is settled:
 * send an empty update and wait for its ack (SyncStatus applied). The server
 * handles a socket's messages for a document in order and writes its frames
 * in order, so everything it sent for earlier messages has arrived by then.
 * (Unlike a SyncStep1, it makes the server ask nothing back.)
 */
export async function providerBarrier(p: HocuspocusProvider): Promise<void> {
  const ws = p.configuration.websocketProvider
  const acked = new Promise<void>((resolve) => {
    const onMessage = (event: MessageEvent) => {
      const head = readFrameHead(new Uint8Array(event.data as ArrayBuffer))
      if (head?.documentName !== p.configuration.name || head.type !== MessageType.SyncStatus || head.detail !== 1) return
      ws.off('message', onMessage)
      resolve()
    }
    ws.on('message', onMessage)
  })
  ws.send(updateFrame(p.configuration.name, Y.encodeStateAsUpdate(new Y.Doc())))
  await acked
}
