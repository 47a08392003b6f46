import { Errors } from '../../../client/protocol.ts'
import { Refusal, type WriteCheck } from '../write.ts'

/** No single update over MAX_UPDATE_BYTES (a socket is closed with 1009; REST bodies are limited before they are read, too). */
export function updateSizeCheck(maxUpdateBytes: number): WriteCheck {
  return {
    name: 'update-size',
    check: (write) =>
      write.update.byteLength > maxUpdateBytes ? new Refusal(Errors.MessageTooBig, `${write.update.byteLength} > ${maxUpdateBytes} bytes`) : undefined,
  }
}
