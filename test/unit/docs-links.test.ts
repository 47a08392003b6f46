/**
 * Docs that cannot rot, part 1: every relative link and `#anchor` in every
 * Markdown file git would publish resolves — to a published file or folder,
 * and to a heading (GitHub's slug) or explicit anchor of the Markdown file it
 * names.
 */
import { dirname, join, normalize } from 'node:path'
import { describe, expect, it } from 'vitest'
import { anchors, lex, links, publishedFiles } from '../helpers/markdown.ts'

/** `https:`, `mailto:`, `//host`: not ours to check here. */
const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i

describe('links in the Markdown files', () => {
  const files = publishedFiles()
  const folders = new Set(files.flatMap((file) => file.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))))
  const markdown = files.filter((file) => file.endsWith('.md'))
  const anchorsOf = new Map(markdown.map((file) => [file, anchors(lex(file))]))

  it('finds the Markdown files and their links', () => {
    expect(markdown).toEqual(expect.arrayContaining(['README.md', 'CHANGELOG.md', 'docs/protocol.md']))
    expect(markdown.flatMap((file) => links(lex(file))).length).toBeGreaterThan(20)
  })

  it('every relative link names a published file or folder, and every #anchor a heading of it', () => {
    const broken: string[] = []
    for (const file of markdown) {
      for (const href of links(lex(file))) {
        if (EXTERNAL.test(href)) continue
        const hash = href.indexOf('#')
        const path = decodeURIComponent(hash < 0 ? href : href.slice(0, hash))
        const anchor = hash < 0 ? undefined : decodeURIComponent(href.slice(hash + 1))
        const target = path === '' ? file : normalize(path.startsWith('/') ? path.slice(1) : join(dirname(file), path)).replace(/\/$/, '')
        if (!files.includes(target) && !folders.has(target)) {
          broken.push(`${file}: ${href} (no file ${target})`)
          continue
        }
        const targetAnchors = anchorsOf.get(target)
        if (anchor !== undefined && targetAnchors && !targetAnchors.has(anchor)) broken.push(`${file}: ${href} (no heading #${anchor} in ${target})`)
      }
    }
    expect(broken).toEqual([])
  })
})
