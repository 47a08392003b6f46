import { Errors } from '../../../client/protocol.ts'
import { Unappliable } from '../../chat/effects.ts'
import { Refusal, type WriteCheck } from '../write.ts'

/**
 * The update must integrate completely now. One that builds on changes the
 * document does not have would be parked by Yjs, invisible, re-sent with every
 * state, and integrated unchecked the day its dependency arrives: refused
 * (a socket defers it and asks the client for what it lacks).
 */
export const dependenciesCheck: WriteCheck = {
  name: 'dependencies',
  check(write) {
    if (write.surelyIntegrates()) return undefined
    try {
      write.effects()
      return undefined
    } catch (error) {
      if (!(error instanceof Unappliable)) throw error
      return new Refusal(Errors.MissingDependencies, error.message, { rule: 'unappliable', mayBeStale: true })
    }
  },
}
