/**
 * The `docs` claim: which documents a token opens, and with which role. Pure.
 *
 *   "docs": { "team/*": "write", "team/secret/*": "read", "notes": "admin", "*": "read" }
 *
 * - A key is an exact document name, `prefix/*` (every document whose name
 *   starts with `prefix/`, at any depth — not `prefix` itself), or `*` (every
 *   document). A `*` anywhere else makes the claim invalid.
 * - The most specific match wins: an exact name, then the longest prefix, then
 *   `*` — whether it grants more or less than a broader match.
 * - No match: the token does not open the document.
 */

export const ROLES = ['read', 'write', 'admin'] as const
/** `read`: sync and presence only. `write`: also edit. `admin`: write, plus what later features reserve for admins. */
export type Role = (typeof ROLES)[number]

/** Name of the JWT claim holding the access rules. */
export const DOCS_CLAIM = 'docs'

/** Caps that keep a hostile claim cheap to check. */
export const MAX_RULES = 256
export const MAX_PATTERN_LENGTH = 1024

export interface AccessRules {
  readonly exact: ReadonlyMap<string, Role>
  /** `[prefix, role]`, longest prefix first; `*` is the empty prefix. */
  readonly prefixes: ReadonlyArray<readonly [string, Role]>
}

export class AccessClaimError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'AccessClaimError'
  }
}

const isRole = (value: unknown): value is Role => (ROLES as readonly unknown[]).includes(value)

/** Validate the claim; an absent claim opens nothing. Throws AccessClaimError on anything malformed. */
export function parseAccessClaim(value: unknown): AccessRules {
  if (value === undefined) return { exact: new Map(), prefixes: [] }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AccessClaimError(`"${DOCS_CLAIM}" must be an object of document patterns to roles`)
  }
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length > MAX_RULES) throw new AccessClaimError(`"${DOCS_CLAIM}" has more than ${MAX_RULES} entries`)
  const exact = new Map<string, Role>()
  const prefixes: Array<readonly [string, Role]> = []
  for (const [pattern, role] of entries) {
    if (!isRole(role)) throw new AccessClaimError(`role for ${JSON.stringify(pattern)} must be one of ${ROLES.join(', ')}`)
    if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
      throw new AccessClaimError(`a pattern must have 1 to ${MAX_PATTERN_LENGTH} characters`)
    }
    if (pattern === '*') {
      prefixes.push(['', role])
    } else if (pattern.endsWith('/*') && !pattern.slice(0, -1).includes('*')) {
      prefixes.push([pattern.slice(0, -1), role])
    } else if (pattern.includes('*')) {
      throw new AccessClaimError(`${JSON.stringify(pattern)}: '*' is allowed only as '*' or a trailing '/*'`)
    } else {
      exact.set(pattern, role)
    }
  }
  prefixes.sort((a, b) => b[0].length - a[0].length)
  return { exact, prefixes }
}

/** The role `rules` give for `documentName`, or null when they do not open it. */
export function roleFor(rules: AccessRules, documentName: string): Role | null {
  const exact = rules.exact.get(documentName)
  if (exact) return exact
  for (const [prefix, role] of rules.prefixes) {
    // `team/*` opens `team/x`, never `team/` or `team` itself.
    if (documentName.length > prefix.length && documentName.startsWith(prefix)) return role
  }
  return null
}

/** Whether `role` is `min` or above (read < write < admin). */
export function atLeast(role: Role, min: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(min)
}

/**
 * Whether `rules` give at least `min` on every document `pattern` (a `docs`
 * claim pattern: a name, `prefix/*`, `*`) can name — so no narrower rule inside
 * it gives less. Used for what an admin may configure over a pattern (webhooks).
 */
export function coversPattern(rules: AccessRules, pattern: string, min: Role): boolean {
  if (!pattern.includes('*')) {
    const role = roleFor(rules, pattern)
    return role !== null && atLeast(role, min)
  }
  const prefix = pattern === '*' ? '' : pattern.slice(0, -1)
  // The rule that governs the pattern's documents as a whole: the longest prefix at or above it.
  const governing = rules.prefixes.find(([p]) => prefix.startsWith(p))
  if (!governing || !atLeast(governing[1], min)) return false
  // A narrower rule inside the pattern that gives less takes those documents out.
  for (const [p, role] of rules.prefixes) if (p.length > prefix.length && p.startsWith(prefix) && !atLeast(role, min)) return false
  for (const [name, role] of rules.exact) if (name.startsWith(prefix) && name.length > prefix.length && !atLeast(role, min)) return false
  return true
}

/** A list of patterns as matching rules (for filters): which documents they name. */
export function patternRules(patterns: readonly string[]): AccessRules {
  return parseAccessClaim(Object.fromEntries(patterns.map((p) => [p, 'read'])))
}
