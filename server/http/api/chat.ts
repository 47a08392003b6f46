/** /api/documents/{name}/chat: chat history, paged backwards (docs/chat-data-model.md §6). */
import { Errors } from '../../../client/protocol.ts'
import * as Y from 'yjs'
import { type ChatMessage, SharedNames, readMessage } from '../../../client/model.ts'
import { docFrom } from '../../history/shape.ts'
import { sendJson } from '../router.ts'
import { type ApiContext, type ApiRoute, documentName, intParam } from './context.ts'
import { ApiError } from './errors.ts'

type Message = Omit<ChatMessage, 'status'>

/**
 * The room's messages in chat order, read as the data model says: entries that
 * are not version-1 message maps are skipped, and of two entries with one id
 * the first wins. Tombstones are kept here (paging counts positions) and
 * filtered by the caller.
 */
function messagesOf(doc: Y.Doc): Message[] {
  const seen = new Set<string>()
  const out: Message[] = []
  for (const entry of doc.getArray(SharedNames.chat).toArray()) {
    const message = entry instanceof Y.Map ? readMessage(entry as Y.Map<unknown>) : undefined
    if (!message || seen.has(message.id)) continue
    seen.add(message.id)
    out.push(message)
  }
  return out
}

async function history(ctx: ApiContext): Promise<void> {
  const { req, res, url, deps } = ctx
  const name = documentName(ctx)
  const limit = intParam(url, 'limit', 1, 1000, 50)!
  const before = url.searchParams.get('before')
  await deps.auth.require(req, name, 'read')
  const state = await deps.live.state(name)
  if (!state) throw new ApiError(Errors.NotFound, `no document ${JSON.stringify(name)}`)
  const doc = docFrom(state)
  let all: Message[]
  try {
    all = messagesOf(doc)
  } finally {
    doc.destroy()
  }
  let end = all.length
  if (before !== null) {
    end = all.findIndex((m) => m.id === before)
    if (end === -1) throw new ApiError(Errors.NotFound, `no message ${JSON.stringify(before)} in this room`)
  }
  const page: Message[] = []
  let i = end - 1
  for (; i >= 0 && page.length < limit; i--) if (!all[i]!.deleted) page.push(all[i]!)
  let hasMore = false
  for (; i >= 0 && !hasMore; i--) hasMore = !all[i]!.deleted
  sendJson(res, 200, { messages: page.reverse(), hasMore })
}

export const chatRoutes: ApiRoute[] = [{ method: 'GET', path: '/api/documents/{name}/chat', handler: history }]
