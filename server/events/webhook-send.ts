/**
 * One webhook request, guarded against SSRF (docs/events.md#webhooks): only
 * http(s); the host resolved once and every address it resolves to checked
 * (loopback, private, link-local — cloud metadata among them — unique-local,
 * shared, multicast, reserved are refused unless `allowPrivate`); the request
 * then goes to that very address (pinned: no second resolution, which a
 * rebinding DNS could answer differently), with the URL's host name kept for
 * Host and TLS; redirects are not followed (an answer is an answer).
 */
import { lookup as dnsLookup } from 'node:dns/promises'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { BlockList, isIP } from 'node:net'

/** The URL may not be used: why, in one sentence. */
export class UrlRefused extends Error {
  override readonly name = 'UrlRefused'
}

const blocked = new BlockList()
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, bits, 'ipv4')
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, bits, 'ipv6')
}

/** Whether a webhook may reach this address by default. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return false
  // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is that IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return isPublicAddress(mapped[1]!)
  return !blocked.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/** Check a URL and resolve its host: the address to send to. Throws UrlRefused. */
export async function resolveTarget(raw: string, allowPrivate: boolean): Promise<{ url: URL; address: string; family: 4 | 6 }> {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UrlRefused('not a URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UrlRefused(`${url.protocol} URLs are not allowed: http or https only`)
  if (url.username || url.password) throw new UrlRefused('credentials in the URL are not allowed')
  const host = url.hostname.replace(/^\[|\]$/g, '')
  let addresses: Array<{ address: string; family: number }>
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await dnsLookup(host, { all: true, verbatim: true })
  } catch (error) {
    throw new UrlRefused(`cannot resolve ${host}: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (addresses.length === 0) throw new UrlRefused(`${host} resolves to no address`)
  // Every address must be allowed: a name that resolves to one public and one private address is refused.
  const refused = allowPrivate ? undefined : addresses.find((a) => !isPublicAddress(a.address))
  if (refused) throw new UrlRefused(`${host} resolves to ${refused.address}, a loopback, private, link-local or reserved address (WEBHOOK_ALLOW_PRIVATE=on allows it)`)
  const first = addresses[0]!
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 }
}

export interface SendResult {
  readonly ok: boolean
  readonly status?: number
  /** Why it failed, for the endpoint's last error. */
  readonly error?: string
}

/** POST `body` to `raw` with `headers`; a 2xx within `timeoutMs` is delivered. Never throws. */
export async function send(raw: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; allowPrivate: boolean }): Promise<SendResult> {
  let target
  try {
    target = await resolveTarget(raw, options.allowPrivate)
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) }
  }
  const { url, address, family } = target
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise<SendResult>((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'yjs-collab-server webhooks', ...headers },
        // The address checked above, and no other: Node asks this instead of DNS.
        lookup: (_host, opts, callback) => {
          if ((opts as { all?: boolean }).all) (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address, family }])
          else callback(null, address, family)
        },
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (res) => {
        const status = res.statusCode ?? 0
        // The answer's body is not needed; read it so the socket is free.
        res.resume()
        res.on('end', () => resolve(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, status, error: `answered ${status}` }))
        res.on('error', (error) => resolve({ ok: false, status, error: error.message }))
      },
    )
    req.on('error', (error) => resolve({ ok: false, error: error.name === 'TimeoutError' || error.name === 'AbortError' ? `no answer within ${options.timeoutMs} ms` : error.message }))
    req.end(body)
  })
}
