/**
 * Who owns which Yjs client id of a document, in the SQLite file: its own
 * table, never read or changed by compaction, written inside the append
 * transaction that establishes a claim (SqliteStorage's batch).
 */
import type Database from 'better-sqlite3'
import type { ClientClaim } from './types.ts'

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS client_owners (
    name TEXT NOT NULL,
    client INTEGER NOT NULL,
    owner TEXT NOT NULL,
    claimed_at INTEGER NOT NULL,
    PRIMARY KEY (name, client)
  ) WITHOUT ROWID;`

/** Thrown inside the claim's savepoint so that the claims it made are rolled back with it. */
class Lost extends Error {
  readonly winners: ClientClaim[]
  constructor(winners: ClientClaim[]) {
    super('client ids owned by another user')
    this.winners = winners
  }
}

export class SqliteOwners {
  private readonly stmt
  /** A savepoint inside the append transaction: every claim, or none. */
  private readonly claimAll: (name: string, claims: readonly ClientClaim[], now: number) => void

  constructor(db: Database.Database) {
    db.exec(SCHEMA)
    this.stmt = {
      insert: db.prepare<[string, number, string, number]>('INSERT INTO client_owners (name, client, owner, claimed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      owner: db.prepare<[string, number], { owner: string }>('SELECT owner FROM client_owners WHERE name = ? AND client = ?'),
      all: db.prepare<[string], ClientClaim>('SELECT client, owner FROM client_owners WHERE name = ?'),
      delete: db.prepare<[string]>('DELETE FROM client_owners WHERE name = ?'),
    }
    this.claimAll = db.transaction((name: string, claims: readonly ClientClaim[], now: number) => {
      const winners: ClientClaim[] = []
      for (const claim of claims) {
        if (this.stmt.insert.run(name, claim.client, claim.owner, now).changes > 0) continue
        const owner = this.stmt.owner.get(name, claim.client)!.owner
        if (owner !== claim.owner) winners.push({ client: claim.client, owner })
      }
      if (winners.length > 0) throw new Lost(winners)
    })
  }

  /**
   * Call inside the append transaction, before the update's insert: claims
   * each id unless it is owned. Returns the winners when one is another
   * owner's (then none of these claims is kept, and the update must not be inserted).
   */
  claim(name: string, claims: readonly ClientClaim[], now: number): ClientClaim[] | undefined {
    try {
      this.claimAll(name, claims, now)
      return undefined
    } catch (error) {
      if (error instanceof Lost) return error.winners
      throw error
    }
  }

  load(name: string): ClientClaim[] {
    return this.stmt.all.all(name)
  }

  delete(name: string): void {
    this.stmt.delete.run(name)
  }
}
