import { Errors } from '../../../client/protocol.ts'
import { Refusal, type WriteCheck } from '../write.ts'

/** The stored document (snapshot + log) may not grow past MAX_DOCUMENT_BYTES; `storedBytes` is what persistence holds now. */
export function documentSizeCheck(maxDocumentBytes: number | undefined, storedBytes: (documentName: string) => number | undefined): WriteCheck {
  return {
    name: 'document-size',
    check(write) {
      if (maxDocumentBytes === undefined) return undefined
      const stored = storedBytes(write.documentName) ?? 0
      if (stored + write.update.byteLength <= maxDocumentBytes) return undefined
      return new Refusal(Errors.DocumentTooLarge, `${stored} + ${write.update.byteLength} bytes > ${maxDocumentBytes}`)
    },
  }
}
