import { Errors } from '../../../client/protocol.ts'
import { Refusal, type WriteCheck } from '../write.ts'

/** A reader may not write (on a socket Hocuspocus answers a read-only connection's update itself; this holds at every door). */
export const roleCheck: WriteCheck = {
  name: 'role',
  check: (write) => (write.writer.role === 'read' ? new Refusal(Errors.ReadOnly, 'the role on this document is read') : undefined),
}
