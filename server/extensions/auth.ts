import type {
  Connection,
  Extension,
  connectedPayload,
  onAuthenticatePayload,
  onTokenSyncPayload,
} from '@hocuspocus/server'
import * as encoding from 'lib0/encoding'
import type { Logger } from 'pino'
import { AuthType, CloseCode, type CloseCodeInfo, MessageType, documentCloseReason } from '../../client/protocol.ts'
import { HookRefusal } from '../errors.ts'
import { authorize } from '../auth/authorize.ts'
import type { TokenVerifier } from '../auth/jwt.ts'
import { AuthSession, sessionOf } from '../auth/session.ts'

export interface AuthConfiguration {
  /** Verifies tokens; null runs the server in open development mode (anyone may connect). */
  verifier: TokenVerifier | null
  /** Ask for a fresh token this long before the current one expires (halfway for shorter tokens). */
  refreshBeforeMs: number
  logger: Logger
}

/** Auth/Authenticated with the scope Hocuspocus uses: sent again when a fresh token changes read-only-ness. */
function authenticatedMessage(address: string, readOnly: boolean): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarString(e, address)
  encoding.writeVarUint(e, MessageType.Auth)
  encoding.writeVarUint(e, AuthType.Authenticated)
  encoding.writeVarString(e, readOnly ? 'readonly' : 'read-write')
  return encoding.toUint8Array(e)
}

/**
 * Authentication and roles, per document connection (a socket carries many).
 *
 * - `onAuthenticate` verifies the token and resolves the document's role from
 *   the `docs` claim; a refusal is answered before the document is created or
 *   loaded. A reader's connection is read-only: Hocuspocus answers its updates
 *   with SyncStatus(false) and applies, stores and broadcasts none of them.
 * - Lifetime: the client is asked for a fresh token before `exp`
 *   (`requestToken`); without one by `exp`, the document is closed with 4406.
 *   A fresh token takes effect at once — identity, role (both ways), expiry.
 * - The session (`context.session`) carries user and role for later hooks.
 */
export class Auth implements Extension {
  readonly extensionName = 'auth'
  /** First: who the connection is, before every other hook. The write pipeline's socket door holds the session while an update is in flight. */
  readonly priority = 900

  private readonly config: AuthConfiguration

  constructor(config: AuthConfiguration) {
    this.config = config
  }

  async onAuthenticate({ token, documentName, connectionConfig, socketId }: onAuthenticatePayload): Promise<{ session: AuthSession }> {
    const { verifier, logger } = this.config
    const decision = await authorize(verifier, token, documentName)
    if (!decision.ok) {
      logger.info({ documentName, socketId, code: decision.refusal.code, user: decision.user, detail: decision.detail }, 'authentication refused')
      throw new HookRefusal(decision.refusal)
    }
    connectionConfig.readOnly = decision.role === 'read'
    if (!decision.user) return { session: new AuthSession('open', decision.role) }
    logger.debug({ documentName, socketId, user: decision.user.id, role: decision.role }, 'authenticated')
    return { session: new AuthSession('token', decision.role, decision.user, decision.expiresAt) }
  }

  async connected({ connection, context }: connectedPayload): Promise<void> {
    const session = sessionOf(context)
    if (!session || session.mode === 'open') return
    if (!connection.document.hasConnection(connection)) return session.end()
    connection.onClose(() => session.end())
    session.start(
      {
        requestToken: () => connection.requestToken(),
        expire: () => this.close(connection, session, CloseCode.TokenExpired, 'token expired without a fresh one'),
      },
      this.config.refreshBeforeMs,
    )
  }

  async onTokenSync({ token, connection, context, documentName }: onTokenSyncPayload): Promise<void> {
    const session = sessionOf(context)
    if (!session || session.mode === 'open') return
    await session.serialize(() => this.refresh(token, connection, session, documentName))
  }

  private async refresh(token: string, connection: Connection, session: AuthSession, documentName: string): Promise<void> {
    const { verifier, logger } = this.config
    if (session.closed || !verifier) return
    const decision = await authorize(verifier, token, documentName)
    if (!decision.ok) return this.close(connection, session, decision.refusal, `fresh token refused: ${decision.detail}`)
    const { user, role, expiresAt } = decision
    if (!user || expiresAt === null || user.id !== session.user?.id) return this.close(connection, session, CloseCode.Forbidden, 'fresh token is for another user')
    // Change the role between two updates, never while one is being stored and applied.
    await session.idle()
    if (session.closed) return
    const wasReadOnly = connection.readOnly
    connection.readOnly = role === 'read'
    session.renew(user, role, expiresAt)
    if (wasReadOnly !== connection.readOnly) connection.send(authenticatedMessage(connection.messageAddress, connection.readOnly))
    logger.debug({ documentName, user: user.id, role, expiresAt }, 'token refreshed')
  }

  private close(connection: Connection, session: AuthSession, info: CloseCodeInfo, detail: string): void {
    if (session.closed) return
    session.end()
    this.config.logger.info({ documentName: connection.document.name, socketId: connection.socketId, user: session.user?.id, code: info.code, detail }, 'closing a document connection')
    connection.close({ code: info.code, reason: documentCloseReason(info) })
  }
}
