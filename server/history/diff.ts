/**
 * What changed between two states of a document, per root shared type: the
 * lines (text lines, blocks of rich text, array entries, map entries) added
 * and removed, from a longest-common-subsequence diff of each type's lines.
 */
import * as Y from 'yjs'
import type { ClientClaim } from '../storage/types.ts'
import { type TypeKind, docFrom, kindOf, lines } from './shape.ts'

export interface TypeDiff {
  kind: TypeKind
  /** Lines in `to` that are not in `from`, in order. */
  added: string[]
  /** Lines in `from` that are not in `to`, in order. */
  removed: string[]
}

/** Beyond this many cells the middle of a change is reported whole instead of diffed line by line. */
const MAX_LCS_CELLS = 4_000_000

/** Per root type that differs: its added and removed lines. Unchanged types are left out. */
export function diffStates(from: Uint8Array, to: Uint8Array): Record<string, TypeDiff> {
  const a = docFrom(from)
  const b = docFrom(to)
  try {
    const out: Record<string, TypeDiff> = {}
    for (const name of [...new Set([...a.share.keys(), ...b.share.keys()])].sort()) {
      const kind = kindOf(b, name) ?? kindOf(a, name)
      if (!kind) continue
      const change = diffLines(kindOf(a, name) ? lines(a, name, kind) : [], kindOf(b, name) ? lines(b, name, kind) : [])
      if (change.added.length > 0 || change.removed.length > 0) out[name] = { kind, ...change }
    }
    return out
  } finally {
    a.destroy()
    b.destroy()
  }
}

/**
 * The common start and end of two sequences (strings or arrays, compared with
 * ===): `a[start..endA)` and `b[start..endB)` are what differs.
 */
export function commonEnds(a: ArrayLike<unknown>, b: ArrayLike<unknown>): { start: number; endA: number; endB: number } {
  let start = 0
  while (start < a.length && start < b.length && a[start] === b[start]) start++
  let endA = a.length
  let endB = b.length
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--
    endB--
  }
  return { start, endA, endB }
}

/** Lines added and removed going from `a` to `b`. */
export function diffLines(a: readonly string[], b: readonly string[]): { added: string[]; removed: string[] } {
  const { start, endA, endB } = commonEnds(a, b)
  const midA = a.slice(start, endA)
  const midB = b.slice(start, endB)
  if (midA.length === 0 || midB.length === 0 || midA.length * midB.length > MAX_LCS_CELLS) return { added: midB, removed: midA }
  const keepA = new Uint8Array(midA.length)
  const keepB = new Uint8Array(midB.length)
  // lcs[i][j] = LCS length of midA[i..] and midB[j..], one row of (m + 1) per i.
  const m = midB.length
  const lcs = new Uint32Array((midA.length + 1) * (m + 1))
  for (let i = midA.length - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = midA[i] === midB[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!)
    }
  }
  for (let i = 0, j = 0; i < midA.length && j < m; ) {
    if (midA[i] === midB[j]) {
      keepA[i++] = 1
      keepB[j++] = 1
    } else if (lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!) i++
    else j++
  }
  return { added: midB.filter((_, j) => !keepB[j]), removed: midA.filter((_, i) => !keepA[i]) }
}

/**
 * The users whose client ids have structs in `to` beyond `from` (through the
 * client-id owners): who wrote what the diff adds. Yjs records no author for a
 * deletion, so someone who only deleted is not named (the activity is).
 */
export function authorsBetween(from: Uint8Array, to: Uint8Array, owners: readonly ClientClaim[]): string[] {
  const before = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(from))
  const after = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(to))
  const ownerOf = new Map(owners.map((o) => [o.client, o.owner]))
  const who = new Set<string>()
  for (const [client, clock] of after) {
    const owner = ownerOf.get(client)
    if (owner !== undefined && clock > (before.get(client) ?? 0)) who.add(owner)
  }
  return [...who].sort()
}
