/**
 * Docs that cannot rot, part 2: every environment variable the code reads is
 * in the one table of docs/configuration.md and in .env.example, with its
 * default, and neither lists a variable nothing reads.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ENV_VARS, defaultConfig } from '../../server/config.ts'
import { ROOT, lex, publishedFiles, tables, type Table } from '../helpers/markdown.ts'

/** Server files, recursively (paths relative to the repository). */
function serverFiles(dir = 'server'): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? serverFiles(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : []))
}

/** Variables read by name anywhere in the server (`env.NAME`, `env['NAME']`): the token command's key, for one. */
function readByName(): string[] {
  return serverFiles().flatMap((file) => [...readFileSync(join(ROOT, file), 'utf8').matchAll(/\benv(?:\.([A-Z][A-Z0-9_]+)\b|\[['"]([A-Z][A-Z0-9_]+)['"]\])/g)].map((m) => m[1] ?? m[2]!))
}

/** Every variable the code reads: the config's table plus any read by name. */
const READ = [...new Set([...Object.keys(ENV_VARS), ...readByName()])].sort()

/** The default as the docs show it (`--help` shows the same). */
function shownDefault(name: string): string | undefined {
  const spec = ENV_VARS[name]
  if (!spec) return undefined
  if (spec.shownDefault) return spec.shownDefault
  const value: unknown = defaultConfig[spec.key]
  if (value === undefined) return '—'
  if (typeof value === 'boolean') return value ? 'on' : 'off'
  return String(value)
}

const isVariableTable = (table: Table) => table.header[0] === 'variable'

describe('configuration docs', () => {
  const configTables = tables(lex('docs/configuration.md')).filter(isVariableTable)

  it('docs/configuration.md has one table of variables, and no other Markdown file has one', () => {
    expect(configTables).toHaveLength(1)
    expect(configTables[0]!.header.slice(0, 3)).toEqual(['variable', 'default', 'meaning'])
    const others = publishedFiles().filter((file) => file.endsWith('.md') && file !== 'docs/configuration.md' && tables(lex(file)).some(isVariableTable))
    expect(others).toEqual([])
  })

  it('the table lists every variable the code reads, and nothing else, with its default', () => {
    const rows = configTables[0]!.rows
    const names = rows.map((row) => /^`([A-Z][A-Z0-9_]*)`$/.exec(row[0]!)?.[1] ?? `not a variable: ${row[0]}`)
    expect([...names].sort()).toEqual(READ)
    expect(new Set(names).size).toBe(names.length)
    const wrong = rows.flatMap(([cell, shown]) => {
      const name = cell!.slice(1, -1)
      const expected = shownDefault(name)
      const text = shown!.replaceAll('`', '')
      return expected === undefined || text === expected || text.startsWith(`${expected} `) ? [] : [`${name}: the table says ${shown}, the code ${expected}`]
    })
    expect(wrong).toEqual([])
  })

  it('.env.example lists every variable the code reads, and nothing else, each with its default', () => {
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8')
    const entries = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => ({ name: m[1]!, value: m[2]!.trim() }))
    expect(entries.map((e) => e.name).sort()).toEqual(READ)
    const wrong = entries.flatMap(({ name, value }) => {
      const spec = ENV_VARS[name]
      if (!spec || spec.shownDefault) return [] // shown in words (HOST, ALLOWED_ORIGINS): left empty
      const expected = shownDefault(name) === '—' ? '' : shownDefault(name)
      return value === expected ? [] : [`${name}=${value}, the default is ${expected}`]
    })
    expect(wrong).toEqual([])
  })
})
