/**
 * The reload journal's rules (client/journal.ts): what it keeps, when it lets
 * go, and what it leaves out over its bound. The browser test
 * (test/integration/web-reload.test.ts) shows it at work in Chromium; here a
 * stand-in for localStorage, which Node lacks, lets each rule be pinned.
 */
import { describe, expect, it } from 'vitest'
import * as buffer from 'lib0/buffer'
import * as Y from 'yjs'
import { JournalOverflowError, type JournalStorage, ReloadJournal } from '../../client/journal.ts'

/** The Web Storage interface over a Map (what localStorage is to the journal). */
class MapStorage implements JournalStorage {
  readonly map = new Map<string, string>()
  get length(): number {
    return this.map.size
  }
  key(index: number): string | null {
    return [...this.map.keys()][index] ?? null
  }
  getItem(key: string): string | null {
    return this.map.get(key) ?? null
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value)
  }
  removeItem(key: string): void {
    this.map.delete(key)
  }
}

const KEY = 'yjs-collab:ws://127.0.0.1/ws:ann:notes'

/** A page: a document whose every change the journal records (local unless `remote`). */
function page(storage: MapStorage, options: { maxLength?: number; key?: string } = {}) {
  const errors: unknown[] = []
  const journal = new ReloadJournal({ storage, key: options.key ?? KEY, maxLength: options.maxLength, onError: (error) => errors.push(error) })
  const doc = new Y.Doc()
  journal.restore(doc)
  let remote = false
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== journal.origin) journal.record(update, remote)
  })
  const asRemote = (edit: () => void) => {
    remote = true
    edit()
    remote = false
  }
  return { journal, doc, text: doc.getText('t'), errors, asRemote }
}

describe('reload journal', () => {
  it('restores what the last page wrote, exactly once, and lets go of it once IndexedDB confirms', () => {
    const storage = new MapStorage()
    const first = page(storage)
    first.text.insert(0, 'typed just before the reload')
    expect(storage.map.size).toBe(0) // nothing is written until the page may go
    first.journal.write()
    expect(storage.map.size).toBe(1)

    const second = page(storage)
    expect(second.text.toString()).toBe('typed just before the reload')
    // Applied again (it was also in IndexedDB): Yjs updates are idempotent.
    Y.applyUpdate(second.doc, Y.encodeStateAsUpdate(first.doc))
    expect(second.text.toString()).toBe('typed just before the reload')
    // The earlier page's journal stays until this page's IndexedDB holds its content.
    expect(storage.map.size).toBe(1)
    second.journal.confirmed(second.journal.mark)
    expect(second.journal.size).toBe(0)
    expect(storage.map.size).toBe(0)
    expect(second.errors).toEqual([])
  })

  it('drops only what was recorded up to the mark, and keeps its written copy in step', () => {
    const storage = new MapStorage()
    const p = page(storage)
    p.text.insert(0, 'a')
    const mark = p.journal.mark
    p.text.insert(1, 'b')
    p.journal.write()
    p.journal.confirmed(mark)
    expect(p.journal.size).toBe(1)
    // The written journal now holds only 'b' ('a' is in IndexedDB): alone, it waits for 'a'.
    const next = page(storage)
    expect(next.text.toString()).toBe('')
    Y.applyUpdate(next.doc, Y.encodeStateAsUpdate(p.doc)) // what IndexedDB holds
    expect(next.text.toString()).toBe('ab')
    // Everything confirmed: this page's written journal is removed.
    p.journal.confirmed(p.journal.mark)
    next.journal.confirmed(next.journal.mark)
    expect(storage.map.size).toBe(0)
  })

  it('keeps two tabs of one room apart, and a tab never removes a journal another one rewrote', () => {
    const storage = new MapStorage()
    const left = page(storage)
    left.text.insert(0, 'left ')
    left.journal.write()
    const right = page(storage) // restores the left tab's journal
    left.text.insert(5, 'again')
    left.journal.write() // rewritten meanwhile
    right.journal.confirmed(right.journal.mark)
    expect(storage.map.size).toBe(1)
    expect(page(storage).text.toString()).toBe('left again')
  })

  it('over its bound leaves out what the server has first, then the oldest, and says so', () => {
    const storage = new MapStorage()
    const p = page(storage, { maxLength: 400 })
    p.asRemote(() => p.text.insert(0, 'x'.repeat(300)))
    p.journal.write()
    expect(p.errors).toEqual([]) // the server has it: nothing is lost by leaving it out
    expect(storage.map.size).toBe(0)

    for (let i = 0; i < 40; i++) p.text.insert(p.text.length, `local ${i}; `)
    p.journal.write()
    const [error] = p.errors
    expect(error).toBeInstanceOf(JournalOverflowError)
    expect((error as JournalOverflowError).dropped).toBeGreaterThan(0)
    const value = [...storage.map.values()][0]!
    expect(value.length).toBeLessThanOrEqual(400)
    // What is kept are the newest local changes.
    const next = page(storage)
    Y.applyUpdate(next.doc, Y.encodeStateAsUpdate(p.doc)) // what IndexedDB and the server hold
    expect(next.text.toString()).toBe(p.text.toString())
  })

  it('acknowledged local changes are the first to go over the bound', () => {
    const storage = new MapStorage()
    const p = page(storage, { maxLength: 200 })
    p.text.insert(0, 'y'.repeat(200))
    p.journal.serverSaved()
    p.text.insert(0, 'new')
    p.journal.write()
    expect(p.errors).toEqual([])
    const update = [...storage.map.values()][0]!
    expect(update.length).toBeLessThanOrEqual(200)
  })

  it('removes a damaged journal and reports it, instead of applying part of it', () => {
    const storage = new MapStorage()
    const p = page(storage)
    p.text.insert(0, 'fine')
    p.journal.write()
    const other = new Y.Doc()
    other.getText('t').insert(0, 'a change cut in half by a broken write')
    const whole = Y.encodeStateAsUpdate(other)
    const damaged = `yjs-collab-journal:other-tab:${KEY}`
    storage.setItem(damaged, `1:${buffer.toBase64(whole.slice(0, whole.length / 2))}`)
    const next = page(storage)
    expect(next.text.toString()).toBe('fine')
    expect(next.errors).toHaveLength(1)
    expect(storage.getItem(damaged)).toBeNull()
  })

  it('keeps memory flat while IndexedDB does not confirm, and still restores every change', () => {
    const storage = new MapStorage()
    const p = page(storage)
    for (let i = 0; i < 1000; i++) p.text.insert(p.text.length, String(i % 10))
    expect(p.journal.size).toBeLessThanOrEqual(256)
    p.journal.write()
    expect(page(storage).text.toString()).toBe(p.text.toString())
  })

  it('is per room: another room of the same server and user starts clean', () => {
    const storage = new MapStorage()
    const p = page(storage)
    p.text.insert(0, 'notes only')
    p.journal.write()
    expect(page(storage, { key: `${KEY}-other` }).text.toString()).toBe('')
    expect(page(storage, { key: `${KEY}:x` }).text.toString()).toBe('')
  })
})
