/**
 * Large documents for cold-load: a text edited by 40 authors, pieces of 2–100
 * characters inserted at random places with some deletions, until the encoded
 * state reaches the size asked for. Deterministic (seeded), cached under
 * bench/results/.cache so a rerun does not pay the generation again.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as Y from 'yjs'
import { TEXT_NAME } from './edits.ts'

const CACHE = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'results/.cache')
const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(' ')

/** A small seeded PRNG (mulberry32) so every run builds the same document. */
function rng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function sentence(random: () => number, chars: number): string {
  let s = ''
  while (s.length < chars) s += `${WORDS[Math.floor(random() * WORDS.length)]} `
  return s.slice(0, chars)
}

export interface GeneratedDoc {
  update: Uint8Array
  stateVector: Uint8Array
  /** Insert operations that built it. */
  operations: number
}

function generate(bytes: number, seed: number): GeneratedDoc {
  const random = rng(seed)
  const doc = new Y.Doc()
  const text = doc.getText(TEXT_NAME)
  const target = bytes
  // Check the real encoded size now and then (encoding is costly); small documents more often.
  const batch = bytes >= 1024 * 1024 ? 2000 : Math.max(20, Math.round(bytes / 2000))
  let operations = 0
  let approx = 0
  while (approx < target) {
    for (let i = 0; i < batch; i++) {
      doc.clientID = 1000 + Math.floor(random() * 40)
      const length = text.length
      if (length > 1000 && random() < 0.1) {
        const at = Math.floor(random() * (length - 50))
        text.delete(at, 1 + Math.floor(random() * 40))
      } else {
        text.insert(Math.floor(random() * (length + 1)), sentence(random, 2 + Math.floor(random() * 100)))
      }
      operations++
    }
    approx = Y.encodeStateAsUpdate(doc).byteLength
  }
  return { update: Y.encodeStateAsUpdate(doc), stateVector: Y.encodeStateVector(doc), operations }
}

export function benchDocument(megabytes: number): GeneratedDoc {
  return cached(`cold-${megabytes}mb.bin`, () => generate(megabytes * 1024 * 1024, megabytes * 7919))
}

/** A document of about `kb` KB (restart-storm's small documents), built and cached like benchDocument. */
export function smallDocument(kb: number): GeneratedDoc {
  return cached(`small-${kb}kb.bin`, () => generate(kb * 1024, kb * 104729))
}

function cached(name: string, build: () => GeneratedDoc): GeneratedDoc {
  const file = join(CACHE, name)
  if (existsSync(file)) {
    const update = new Uint8Array(readFileSync(file))
    const doc = new Y.Doc()
    Y.applyUpdate(doc, update)
    return { update, stateVector: Y.encodeStateVector(doc), operations: -1 }
  }
  const generated = build()
  mkdirSync(CACHE, { recursive: true })
  writeFileSync(file, generated.update)
  return generated
}
