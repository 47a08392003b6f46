import type { IncomingMessage, ServerResponse } from 'node:http'

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>

/** Send a JSON body with a status code. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/**
 * A small exact-path router for the HTTP side of the server (health, metrics,
 * REST, the demo page). Routes are added by feature modules; anything else is
 * a JSON 404, and a handler that throws is a JSON 500, logged by the caller.
 */
export class Router {
  private readonly routes = new Map<string, RouteHandler>()
  private readonly prefixes: Array<[string, RouteHandler]> = []

  /** Handle `METHOD path` exactly. */
  on(method: string, path: string, handler: RouteHandler): this {
    this.routes.set(`${method} ${path}`, handler)
    return this
  }

  /** Handle every path under `prefix` (e.g. '/api/'), any method. */
  under(prefix: string, handler: RouteHandler): this {
    this.prefixes.push([prefix, handler])
    return this
  }

  async handle(req: IncomingMessage, res: ServerResponse, onError: (error: unknown) => void): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET')
    const handler =
      this.routes.get(`${method} ${url.pathname}`) ?? this.prefixes.find(([p]) => url.pathname.startsWith(p))?.[1]
    try {
      if (handler) await handler(req, res, url)
      else sendJson(res, 404, { error: 'not-found', message: `no route for ${method} ${url.pathname}` })
    } catch (error) {
      onError(error)
      if (!res.headersSent) sendJson(res, 500, { error: 'internal-error' })
      else res.destroy()
    }
  }
}
