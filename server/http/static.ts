/**
 * Serves the built web page (client/demo/dist, `npm run build:demo`) at `/`:
 * `GET /` and `/index.html` are the page (revalidated on every load), and
 * `/assets/*` its content-hashed files (cached for a year). Paths are decoded
 * once and must stay inside the page folder after resolution (symbolic links
 * included), so no spelling of `..` reaches another file. Files are looked up
 * on each request: a page built after the server started is served at once.
 * WebSocket upgrades on `/` never get here (the upgrade listener takes them).
 */
import { createReadStream } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, isAbsolute, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Router } from './router.ts'

/** The page's build folder: client/demo/dist next to server/ (in the compiled tree, dist/client/demo/dist next to dist/server/). */
export const DEFAULT_DEMO_ROOT = fileURLToPath(new URL('../../client/demo/dist/', import.meta.url))

export interface StaticSiteOptions {
  /** Folder holding index.html and assets/. @default DEFAULT_DEMO_ROOT */
  root: string
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
}

/** Content-hashed build output: never changes under the same name. */
const IMMUTABLE = 'public, max-age=31536000, immutable'

/**
 * The page's policy: its own scripts and styles (the editors set inline
 * styles for cursors), images from itself or data: URLs, and WebSockets to
 * the same host ('self' covers ws:/wss: of the same origin).
 */
const PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join('; ')

const NOT_BUILT = 'The web page is not built yet: run `npm run build:demo` (`npm start` builds it by itself).\n'

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'x-content-type-options': 'nosniff' })
  res.end(text)
}

/** `relPath` (decoded, '/'-separated) inside `root`, or null if it would leave it. */
function inside(root: string, relPath: string): string | null {
  if (relPath.includes('\0') || relPath.includes('\\')) return null
  const file = resolve(root, `.${sep}${relPath}`)
  const rel = relative(root, file)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? file : null
}

async function serveFile(req: IncomingMessage, res: ServerResponse, root: string, relPath: string, cache: string): Promise<void> {
  const candidate = inside(root, relPath)
  if (!candidate) return sendText(res, 404, 'Not found\n')
  let real: [string, string]
  try {
    // Resolve symbolic links on both sides, then check again.
    real = await Promise.all([realpath(root), realpath(candidate)])
  } catch {
    return sendText(res, 404, relPath === 'index.html' ? NOT_BUILT : 'Not found\n')
  }
  const [realRoot, file] = real
  const info = await stat(file)
  if (!info.isFile() || !inside(realRoot, relative(realRoot, file).split(sep).join('/'))) return sendText(res, 404, 'Not found\n')

  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`
  const headers: Record<string, string | number> = {
    'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'cache-control': cache,
    etag,
    'last-modified': info.mtime.toUTCString(),
    'x-content-type-options': 'nosniff',
  }
  if (extname(file) === '.html') {
    headers['content-security-policy'] = PAGE_POLICY
    headers['referrer-policy'] = 'no-referrer'
  }
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers)
    res.end()
    return
  }
  headers['content-length'] = info.size
  res.writeHead(200, headers)
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  await new Promise<void>((done, fail) => {
    const stream = createReadStream(file)
    stream.once('error', fail)
    res.once('close', () => {
      stream.destroy()
      done()
    })
    stream.pipe(res)
  })
}

/** Register `GET /`, `/index.html` and `/assets/*` (HEAD too) for the page in `root`. */
export function addStaticRoutes(router: Router, options: Partial<StaticSiteOptions> = {}): void {
  const root = resolve(options.root ?? DEFAULT_DEMO_ROOT)
  const index = (req: IncomingMessage, res: ServerResponse) => serveFile(req, res, root, 'index.html', 'no-cache')
  router.on('GET', '/', index)
  router.on('GET', '/index.html', index)
  router.under('/assets/', async (req, res, url) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method not allowed\n')
    let path: string
    try {
      path = decodeURIComponent(url.pathname.slice(1))
    } catch {
      return sendText(res, 400, 'Bad path\n')
    }
    const segments = path.split('/')
    if (segments.some((s) => s === '' || s === '.' || s === '..')) return sendText(res, 404, 'Not found\n')
    return serveFile(req, res, root, path, IMMUTABLE)
  })
}
