/**
 * Bench-only entry: the practical ceiling. A raw `ws` relay that forwards each
 * binary frame to the other sockets of the same room (the URL path), with no
 * CRDT work, no state and no acks. Speaks whatever the clients speak.
 */
import { createServer } from 'node:http'
import { WebSocket, WebSocketServer } from 'ws'

const rooms = new Map<string, Set<WebSocket>>()
const http = createServer((_req, res) => res.writeHead(426).end())
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 })

wss.on('connection', (ws, req) => {
  const name = (req.url ?? '/').split('?')[0] ?? '/'
  let room = rooms.get(name)
  if (!room) {
    room = new Set()
    rooms.set(name, room)
  }
  const peers = room
  peers.add(ws)
  ws.on('message', (data, isBinary) => {
    for (const peer of peers) if (peer !== ws && peer.readyState === WebSocket.OPEN) peer.send(data, { binary: isBinary })
  })
  ws.on('close', () => {
    peers.delete(ws)
    if (peers.size === 0) rooms.delete(name)
  })
  ws.on('error', () => ws.terminate())
})

http.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  process.stdout.write('relay listening\n')
})
process.on('SIGTERM', () => {
  for (const ws of wss.clients) ws.terminate()
  http.close(() => process.exit(0))
})
