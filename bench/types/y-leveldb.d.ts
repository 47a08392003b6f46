// y-leveldb ships declarations, but its package `exports` do not point at them,
// so NodeNext resolution cannot find them. The part the bench uses:
declare module 'y-leveldb' {
  export class LeveldbPersistence {
    constructor(location: string)
    storeUpdate(docName: string, update: Uint8Array): Promise<number>
    destroy(): Promise<void>
  }
}
