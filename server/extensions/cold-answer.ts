import type { Extension, connectedPayload } from '@hocuspocus/server'
import { OutboundSocket } from '../ws/outbound.ts'

/**
 * The moment cold sync answers a held SyncStep1 (server/ws/cold-sync.ts):
 * Hocuspocus has connected the socket to the loaded document, so every change
 * from now on reaches the socket, and the answer sent now (the document's
 * shared answer) misses nothing. Runs last among the `connected` hooks, after
 * those that may close the connection (it is then not answered).
 */
export class ColdAnswer implements Extension {
  readonly extensionName = 'cold-answer'
  readonly priority = 0

  async connected({ connection }: connectedPayload): Promise<void> {
    const socket = connection.webSocket
    if (!(socket instanceof OutboundSocket)) return
    socket.cold?.connected(connection.messageAddress, connection.document, () => connection.document.hasConnection(connection))
  }
}
