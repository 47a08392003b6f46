/**
 * The import rules of docs/architecture.md, enforced: the house stacks one way
 * (a part of the server imports only parts below it in LAYERS), the client
 * imports no server code, the pure rooms (auth, chat, storage) import no
 * transport or hooks, and only server/main.ts reads the environment.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')

/** The server's parts, lowest first; each may import only its own layer's parts and those of layers below. */
const LAYERS: string[][] = [
  ['auth', 'chat', 'internals.ts'],
  ['config.ts', 'secrets.ts', 'log.ts', 'errors.ts', 'readiness.ts', 'metrics.ts', 'package-info.ts', 'exit-codes.ts', 'startup.ts', 'origin.ts'],
  ['storage'],
  ['ws', 'compat', 'presence'],
  ['extensions', 'pipeline'],
  ['history', 'events'],
  ['http'],
  ['setup'],
  ['app.ts', 'index.ts'],
  ['cli'],
  ['main.ts', 'bin.ts'],
]

/** What the server may import from client/: the constants and data model both sides share. */
const CLIENT_SHARED = new Set(['client/protocol.ts', 'client/model.ts'])

/** Packages the pure rooms must not import: transport, hooks, the network. */
const NOT_IN_PURE = /^(@hocuspocus\/|ws$|ioredis$|node:http|node:net|crossws)/
const PURE = new Set(['auth', 'chat', 'storage'])

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return e.name === 'dist' || e.name === 'node_modules' ? [] : files(path)
    return e.name.endsWith('.ts') ? [path] : []
  })
}

/** Every `import … from '…'` / `export … from '…'` / `import('…')` specifier of a file. */
function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!)
}

/** A file's code without its comments (strings kept whole, so a '/*' inside one is not taken for a comment). */
function code(file: string): string {
  const text = readFileSync(join(ROOT, file), 'utf8')
  return text.replace(/'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) => (m.startsWith('/') ? '' : m))
}

/** The part of the server a path belongs to: its folder under server/, or its file name at the top. */
function partOf(path: string): string {
  const rest = path.slice('server/'.length)
  return rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : rest
}

/**
 * Private fields of Yjs, lib0 and Hocuspocus: outside server/internals.ts none
 * of these names may appear in server code. Yjs: a type's own item, its list
 * and its map entries, the store's parked structs; lib0: an observable's
 * listeners; Hocuspocus: a ClientConnection's queue and hook payloads.
 */
const PRIVATE_FIELDS = ['_start', '_map', '_item', '_observers', 'pendingStructs', 'pendingDs', 'incomingMessageQueue', 'hookPayloads']

const layerOf = (part: string) => LAYERS.findIndex((l) => l.includes(part))

describe('architecture: the import rules of docs/architecture.md', () => {
  const server = files('server')

  it('every part of the server has a layer', () => {
    expect(server.map(partOf).filter((p) => layerOf(p) === -1)).toEqual([])
  })

  it('no part of the server imports a part above it, and it imports from client/ only the shared constants', () => {
    const wrong: string[] = []
    for (const file of server) {
      const from = partOf(file)
      for (const spec of imports(file).filter((s) => s.startsWith('.'))) {
        const target = relative(ROOT, resolve(dirname(join(ROOT, file)), spec))
        if (target.startsWith('client/')) {
          if (!CLIENT_SHARED.has(target)) wrong.push(`${file} imports ${target}`)
          continue
        }
        if (!target.startsWith('server/')) wrong.push(`${file} imports ${target}`)
        else if (layerOf(partOf(target)) > layerOf(from)) wrong.push(`${file} (${from}) imports ${target} (${partOf(target)}, a layer above)`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('the pure rooms (auth, chat, storage) import no transport, hooks or network', () => {
    const wrong = server
      .filter((f) => PURE.has(partOf(f)))
      .flatMap((f) => imports(f).filter((s) => NOT_IN_PURE.test(s)).map((s) => `${f} imports ${s}`))
    expect(wrong).toEqual([])
  })

  it('the client imports no server code', () => {
    const wrong = files('client').flatMap((f) =>
      imports(f)
        .filter((s) => s.startsWith('.') && relative(ROOT, resolve(dirname(join(ROOT, f)), s)).startsWith('server/'))
        .map((s) => `${f} imports ${s}`),
    )
    expect(wrong).toEqual([])
  })

  it('private state of dependencies is touched only in server/internals.ts (the one adapter)', () => {
    const users = server.filter((f) => f !== 'server/internals.ts').flatMap((f) => {
      const text = code(f)
      return PRIVATE_FIELDS.filter((name) => new RegExp(`\\b${name}\\b`).test(text)).map((name) => `${f} uses ${name}`)
    })
    expect(users).toEqual([])
  })

  it('no hook payload is made up with a cast (a hook gets a payload typed in full, or Hocuspocus calls it)', () => {
    const forged = server.filter((f) => /\bas\s+(unknown\s+as\s+)?\w+Payload\b/.test(code(f)))
    expect(forged).toEqual([])
  })

  it('only server/main.ts reads the environment', () => {
    const readers = server.filter((f) => f !== 'server/main.ts' && /\bprocess\s*(\.\s*env\b|\[\s*['"]env['"]\s*\])|\bfrom\s+['"](node:)?process['"]/.test(code(f)))
    expect(readers).toEqual([])
  })
})
