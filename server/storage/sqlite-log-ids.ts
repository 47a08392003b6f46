import type Database from 'better-sqlite3'

/** Documents whose last id is remembered; past this, all are forgotten (read again on the next append). */
const REMEMBERED = 10_000

/**
 * Ids for a document's log entries, assigned per document: the next is one
 * past the last. The last id of a document is read from the table once and
 * then remembered, so an append costs no read — valid only while no other
 * connection (another process on the same file) has committed since:
 * `PRAGMA data_version` changes exactly then, and everything remembered is
 * dropped. Use only inside a write transaction begun with BEGIN IMMEDIATE, so
 * no other connection can commit between that check and the insert.
 *
 * An id remembered from a transaction that then rolled back is past what is
 * stored: the log gets a gap, never a clash.
 */
export class LogIds {
  private readonly last = new Map<string, number>()
  private dataVersion: number | undefined
  private readonly readVersion
  private readonly readLast

  constructor(db: Database.Database) {
    this.readVersion = db.prepare<[], number>('PRAGMA data_version').pluck()
    this.readLast = db.prepare<[string], number | null>('SELECT max(id) FROM updates WHERE name = ?').pluck()
  }

  /** First thing in each write transaction. */
  begin(): void {
    const version = this.readVersion.get()
    if (version !== this.dataVersion || this.last.size > REMEMBERED) this.last.clear()
    this.dataVersion = version
  }

  next(name: string): number {
    const id = (this.last.get(name) ?? this.readLast.get(name) ?? 0) + 1
    this.last.set(name, id)
    return id
  }
}
