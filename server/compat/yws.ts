import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { AuthType, CloseCode, type CloseCodeInfo, MessageType, closeCodeByNumber } from '../../client/protocol.ts'

/** The path prefix of the y-websocket endpoint: `/yws/<document>?token=…`. */
export const YWS_PREFIX = '/yws/'

/** y-websocket message types (the first varUint of each frame; no document name). */
const YwsType = { Sync: 0, Awareness: 1, Auth: 2, QueryAwareness: 3 } as const

/** What to do with one outbound frame. */
export type Outbound = { send: Uint8Array } | { drop: true } | { close: CloseCodeInfo }

/**
 * Translates between the plain y-websocket protocol (one document per socket,
 * named in the URL) and the Hocuspocus protocol the core speaks, so an
 * unchanged `y-websocket` WebsocketProvider edits the same documents as
 * Hocuspocus clients — through the same frame guard, authentication, roles and
 * durable-before-ack pipeline.
 *
 * Inbound: prefix the document name (types 0 sync, 1 awareness, 3 query
 * awareness). Outbound: strip the name; SyncReply (4) becomes Sync (0); the
 * Hocuspocus-only messages (Authenticated, SyncStatus, Stateless) are dropped; a
 * PermissionDenied or a per-document Close closes the socket with its code.
 */
export class YwsAdapter {
  readonly documentName: string
  private readonly token: string

  constructor(documentName: string, token: string) {
    this.documentName = documentName
    this.token = token
  }

  /** Parse `/yws/<document>?token=…`; undefined when the path has no document. */
  static fromUrl(url: string): YwsAdapter | undefined {
    const parsed = new URL(url, 'http://localhost')
    if (!parsed.pathname.startsWith(YWS_PREFIX)) return undefined
    let name: string
    try {
      name = decodeURIComponent(parsed.pathname.slice(YWS_PREFIX.length))
    } catch {
      return undefined
    }
    if (name.length === 0) return undefined
    return new YwsAdapter(name, parsed.searchParams.get('token') ?? '')
  }

  /** The Auth frame sent on the client's behalf when the socket opens. */
  authFrame(): Uint8Array {
    const e = encoding.createEncoder()
    encoding.writeVarString(e, this.documentName)
    encoding.writeVarUint(e, MessageType.Auth)
    encoding.writeVarUint(e, AuthType.Token)
    encoding.writeVarString(e, this.token)
    return encoding.toUint8Array(e)
  }

  /** A y-websocket frame as a Hocuspocus frame, or null for a type a client may not send. */
  inbound(frame: Uint8Array): Uint8Array | null {
    if (frame.byteLength === 0) return null
    const type = frame[0]
    if (type !== YwsType.Sync && type !== YwsType.Awareness && type !== YwsType.QueryAwareness) return null
    const e = encoding.createEncoder()
    encoding.writeVarString(e, this.documentName)
    encoding.writeUint8Array(e, frame)
    return encoding.toUint8Array(e)
  }

  /** A Hocuspocus frame as what the y-websocket client should get. */
  outbound(frame: Uint8Array): Outbound {
    const d = decoding.createDecoder(frame)
    if (frame.byteLength === 1) return { drop: true } // connection-level Ping
    decoding.readVarString(d)
    const type = decoding.readVarUint(d)
    const rest = frame.subarray(d.pos)
    switch (type) {
      case MessageType.Sync:
      case MessageType.SyncReply:
        return { send: prefixed(YwsType.Sync, rest) }
      case MessageType.Awareness:
        return { send: prefixed(YwsType.Awareness, rest) }
      case MessageType.Auth: {
        const authType = decoding.readVarUint(d)
        if (authType !== AuthType.PermissionDenied) return { drop: true }
        return { close: codeOf(decoding.readVarString(d), CloseCode.Forbidden) }
      }
      case MessageType.Close:
        return { close: codeOf(decoding.readVarString(d), CloseCode.Forbidden) }
      default:
        return { drop: true }
    }
  }
}

function prefixed(type: number, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(rest.byteLength + 1)
  out[0] = type
  out.set(rest, 1)
  return out
}

/** Our reasons are `"<code> <reason>"`: map back to the code, else `fallback`. */
function codeOf(reason: string, fallback: CloseCodeInfo): CloseCodeInfo {
  const code = Number(reason.split(' ')[0])
  return closeCodeByNumber(code) ?? fallback
}
