/**
 * What to tell a person when the server refuses or closes: advice that fits
 * the close code (the catalogue in client/protocol.ts), not one message for
 * every refusal — a bad room name is not a token problem.
 */
import { CloseCode, type CloseCodeName, closeCodeByNumber } from '../index.ts'

/** A refusal as the page shows it: `code` (a close code's reason, or `identity-mismatch`) for styles and tests. */
export interface Advice {
  code: string
  /** Short, for the badge. */
  badge: string
  /** A sentence or two: what happened, and what to do. */
  text: string
}

type AdviceText = (room: string) => Pick<Advice, 'badge' | 'text'>

const TOKEN_HELP = 'Paste a valid token under “Token” (for example from `npm run token`).'
const RELOAD = 'Reload the page; if it happens again, tell whoever runs the server.'

/** Advice per close code; codes that retry by themselves need none (the page reconnects). */
const ADVICE: Partial<Record<CloseCodeName, AdviceText>> = {
  Unauthorized: () => ({ badge: 'Refused: no valid token', text: `The server needs a valid token for this room. ${TOKEN_HELP}` }),
  TokenExpired: () => ({ badge: 'Refused: token expired', text: 'Your token has expired. Paste a fresh one under “Token”.' }),
  Forbidden: (room) => ({ badge: 'No access to this room', text: `Your token does not open “${room}”. Pick another room, or use a token that opens it.` }),
  InvalidDocumentName: (room) => ({
    badge: 'Refused: not a valid room name',
    text: `“${room}” is not a room name the server accepts: a name must not be empty or too long, and must have no control characters and no empty, “.” or “..” parts between slashes. Type another name in the Room field.`,
  }),
  TooManyDocuments: () => ({ badge: 'Refused: too many rooms', text: `This connection opened more rooms than the server allows. ${RELOAD}` }),
  DocumentDeleted: (room) => ({ badge: 'Room deleted', text: `An admin deleted “${room}”. Reload to start it afresh, or pick another room.` }),
  DocumentTooLarge: (room) => ({ badge: 'Refused: room too large', text: `“${room}” has reached the largest size the server stores; the last change was not saved. Remove something, or start another room.` }),
  MessageTooBig: () => ({ badge: 'Refused: change too large', text: `That change is larger than the server accepts in one message; it was not saved. ${RELOAD}` }),
  PolicyViolation: () => ({ badge: 'Refused: change not allowed', text: `The server refused a change that breaks the room's rules (for example a message in someone else's name); it was not saved. ${RELOAD}` }),
  MalformedMessage: () => ({ badge: 'Refused: unreadable message', text: `The server could not read what this page sent. ${RELOAD}` }),
  UnsupportedMessage: () => ({ badge: 'Refused: unsupported message', text: `The page sent a message the server does not take. ${RELOAD}` }),
  TextFrame: () => ({ badge: 'Refused: unsupported message', text: `The page sent a message the server does not take. ${RELOAD}` }),
  ServerBusy: (room) => ({ badge: 'Server busy: trying again', text: `The server is busy loading documents and asked to wait before opening “${room}”; the page tries again by itself in a moment.` }),
}

/** The name of a close code in the catalogue. */
function nameOf(code: number): CloseCodeName | undefined {
  return (Object.keys(CloseCode) as CloseCodeName[]).find((name) => CloseCode[name].code === code)
}

/** Advice for a refusal with close code `code` (a number, or a reason like `4403 forbidden`), in room `room`. */
export function adviceFor(code: number | string | undefined, room: string): Advice {
  const number = typeof code === 'string' ? Number(/^(\d{4})\b/.exec(code)?.[1]) : code
  const info = number !== undefined && Number.isFinite(number) ? closeCodeByNumber(number) : undefined
  const name = info ? nameOf(info.code) : undefined
  const advice = name ? ADVICE[name] : undefined
  if (info && advice) return { code: info.reason, ...advice(room) }
  const reason = info?.reason ?? (typeof code === 'string' && code ? code : 'refused')
  return { code: reason, badge: `Refused: ${reason}`, text: `The server closed the connection (${reason}). ${RELOAD}` }
}

/** Advice when the token is for another user than the page runs as (the client's IdentityMismatchError). */
export function identityAdvice(tokenSub: string, userId: string): Advice {
  return {
    code: 'identity-mismatch',
    badge: 'Refused: token for another user',
    text: `Your token is for “${tokenSub}”, but this page runs as “${userId}”. Paste your own token under “Token”, or clear it.`,
  }
}
