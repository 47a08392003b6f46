/**
 * Docs that cannot rot, part 3: docs/rest.md lists the same endpoints
 * (method + path) as the OpenAPI document the server serves, and shows each
 * one in at least one example.
 */
import { describe, expect, it } from 'vitest'
import { openApiDocument } from '../../server/http/api/openapi.ts'
import { codeBlocks, lex, tables } from '../helpers/markdown.ts'

const METHODS = ['get', 'post', 'put', 'patch', 'delete']

/** `METHOD /path` of every operation of the OpenAPI document. */
function fromOpenApi(): string[] {
  return Object.entries(openApiDocument.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`))
}

/** `METHOD /path` of every row of rest.md's endpoint table (`GET /api/documents?after=&limit=` → `GET /api/documents`). */
function fromTable(): string[] {
  const table = tables(lex('docs/rest.md')).find((t) => t.header[0] === 'endpoint')
  return (table?.rows ?? []).map((row) => {
    const m = /^`([A-Z]+) (\/[^`?\s]*)(?:\?[^`]*)?`$/.exec(row[0]!)
    return m ? `${m[1]} ${m[2]}` : `not an endpoint: ${row[0]}`
  })
}

/** `METHOD /path` of every curl command in rest.md's console examples. */
function fromExamples(): string[] {
  const commands = codeBlocks(lex('docs/rest.md'), 'console').flatMap((block) => block.split('\n').filter((line) => line.startsWith('$ curl ')))
  return commands.flatMap((command) => {
    const url = /https?:\/\/[^/\s'"]+(\/[^\s'"?;&|]*)/.exec(command)
    if (!url) return []
    const method = /\s-X\s+([A-Z]+)/.exec(command)?.[1] ?? (/\s(?:-d|--data[\w-]*)\s/.test(command) ? 'POST' : 'GET')
    return [`${method} ${url[1]}`]
  })
}

/** Whether `METHOD /concrete/path` is an instance of `METHOD /template/{param}`. */
function fits(template: string, concrete: string): boolean {
  const [tm, tp] = template.split(' ') as [string, string]
  const [cm, cp] = concrete.split(' ') as [string, string]
  const ts = tp.split('/')
  const cs = cp.split('/')
  return tm === cm && ts.length === cs.length && ts.every((segment, i) => /^\{\w+\}$/.test(segment) ? cs[i] !== '' : segment === cs[i])
}

describe('docs/rest.md and the OpenAPI document', () => {
  it('list the same endpoints', () => {
    const documented = fromTable()
    expect(documented.length).toBeGreaterThan(8)
    expect([...documented].sort()).toEqual(fromOpenApi().sort())
    expect(new Set(documented).size).toBe(documented.length)
  })

  it('every endpoint has an example', () => {
    const examples = fromExamples()
    const without = fromOpenApi().filter((endpoint) => !examples.some((example) => fits(endpoint, example)))
    expect(without).toEqual([])
  })
})
