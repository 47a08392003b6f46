/**
 * Markdown as GitHub reads it, for the tests that keep the docs true: the
 * files git would publish, each file's links, its heading anchors (GitHub's
 * slugs, via github-slugger) and its tables (via marked's GFM lexer).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import GithubSlugger from 'github-slugger'
import { marked, type Token, type Tokens } from 'marked'

export const ROOT = resolve(import.meta.dirname, '../..')

/** Files git would publish: tracked ones and new ones it does not ignore, less those deleted in the work tree. */
export function publishedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' })
  return [...new Set(out.split('\0').filter(Boolean))].filter((file) => existsSync(join(ROOT, file))).sort()
}

/** The block tokens of a Markdown file (path relative to the repository). */
export function lex(file: string): Token[] {
  return marked.lexer(readFileSync(join(ROOT, file), 'utf8'))
}

function each(tokens: Token[], fn: (token: Token) => void): void {
  marked.walkTokens(tokens, fn)
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" }

/** The text of inline tokens as GitHub renders it (formatting and tags dropped, code kept). */
export function plainText(tokens: Token[] | undefined): string {
  return (tokens ?? [])
    .map((token) => {
      if (token.type === 'html') return ''
      if ('tokens' in token && token.tokens) return plainText(token.tokens)
      return 'text' in token ? String(token.text) : ''
    })
    .join('')
    .replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!)
}

/** The `#anchors` a file's headings get on GitHub (duplicates numbered), and explicit `id`/`name` attributes. */
export function anchors(tokens: Token[]): Set<string> {
  const slugger = new GithubSlugger()
  const out = new Set<string>()
  each(tokens, (token) => {
    if (token.type === 'heading') out.add(slugger.slug(plainText((token as Tokens.Heading).tokens)))
    if (token.type === 'html') for (const m of token.raw.matchAll(/\s(?:id|name)="([^"]+)"/g)) out.add(m[1]!)
  })
  return out
}

/** Every link and image target of a file: Markdown links (inline and reference) and `href`/`src` of HTML. */
export function links(tokens: Token[]): string[] {
  const out: string[] = []
  each(tokens, (token) => {
    if (token.type === 'link' || token.type === 'image') out.push((token as Tokens.Link).href)
    if (token.type === 'html') for (const m of token.raw.matchAll(/\s(?:href|src)="([^"]+)"/g)) out.push(m[1]!)
  })
  return out
}

export interface Table {
  header: string[]
  rows: string[][]
}

/** Every table of a file, cells as their raw Markdown text. */
export function tables(tokens: Token[]): Table[] {
  const out: Table[] = []
  each(tokens, (token) => {
    if (token.type !== 'table') return
    const table = token as Tokens.Table
    out.push({ header: table.header.map((cell) => cell.text.trim()), rows: table.rows.map((row) => row.map((cell) => cell.text.trim())) })
  })
  return out
}

/** The code blocks of a file in the given language. */
export function codeBlocks(tokens: Token[], lang: string): string[] {
  const out: string[] = []
  each(tokens, (token) => {
    if (token.type === 'code' && (token as Tokens.Code).lang === lang) out.push((token as Tokens.Code).text)
  })
  return out
}
