import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { onTestFinished, vi } from 'vitest'
import * as Y from 'yjs'

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

/** Wait until the provider has synced and the server acknowledged every change. */
export async function settled(p: HocuspocusProvider, timeout = 15_000): Promise<void> {
  await vi.waitFor(
    () => {
      if (!p.synced || p.unsyncedChanges > 0) throw new Error(`not settled: synced=${p.synced} unsynced=${p.unsyncedChanges}`)
    },
    { timeout, interval: 10 },
  )
}
