/**
 * The HTTP server's own limits: a client that sends its headers too slowly,
 * or its body too slowly, gets 408 and is disconnected; headers larger than
 * HTTP_MAX_HEADER_BYTES get 431.
 */
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { httpBase } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'

/** Open a raw TCP connection, write `text`, and resolve with everything the server sent once it closes the connection. */
function sendPartial(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text))
    let got = ''
    socket.on('data', (d) => (got += d.toString()))
    socket.once('error', reject)
    socket.once('close', () => resolve(got))
  })
}

describe('HTTP server limits', () => {
  it('headers that do not arrive within HTTP_HEADERS_TIMEOUT_MS: 408, connection closed', async () => {
    const server = await startServer({ httpHeadersTimeoutMs: 1000, httpRequestTimeoutMs: 5000 })
    expect(server.httpServer.headersTimeout).toBe(1000)
    const port = Number(new URL(httpBase(server.url)).port)
    // A request line and one header, and then nothing (slowloris).
    const answer = await sendPartial(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    expect(answer).toMatch(/^HTTP\/1\.1 408/)
  })

  it('a body that does not arrive within HTTP_REQUEST_TIMEOUT_MS: 408, connection closed', async () => {
    const server = await startServer({ httpHeadersTimeoutMs: 1000, httpRequestTimeoutMs: 1500 })
    expect(server.httpServer.requestTimeout).toBe(1500)
    const port = Number(new URL(httpBase(server.url)).port)
    const answer = await sendPartial(port, 'POST /api/documents/x/updates HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\nonly a little')
    expect(answer).toMatch(/^HTTP\/1\.1 408/)
  })

  it('headers larger than HTTP_MAX_HEADER_BYTES: 431', async () => {
    const server = await startServer({ httpMaxHeaderBytes: 4096 })
    const base = httpBase(server.url)
    expect((await fetch(`${base}/healthz`, { headers: { 'x-padding': 'a'.repeat(3000) } })).status).toBe(200)
    expect((await fetch(`${base}/healthz`, { headers: { 'x-padding': 'a'.repeat(5000) } })).status).toBe(431)
  })
})
