/**
 * `npm run docs:rest`: runs every example of docs/rest.md against a real
 * server and writes what each printed into the file.
 *
 *   node scripts/docs-rest.ts [--out FILE]      (default: docs/rest.md itself)
 *
 * The document is its own source. Every line `$ command` inside a ```console
 * block is run by bash, in document order, in one temporary directory, and the
 * lines under it are replaced by what it printed (stdout and stderr). Lines
 * `NAME=$(npm run -s token -- ARGS)` of a ```sh block mint the tokens the
 * commands use, with the project's own token command. The server is this
 * checkout's, started in this process as `npm start` would with `JWT_SECRET`
 * set, but on 127.0.0.1 and a free port with a fresh SQLite file; the commands
 * are written for http://localhost:1234 and run against that port.
 *
 * What would change from run to run is normalised: the port, times
 * (2026-01-01T12:00:00.000Z, and the same moment in `Date` headers). Sizes
 * and ids need nothing: the database is new, the examples' Yjs documents fix
 * their `clientID`, and documents stay loaded for the run (no compaction
 * between the requests); event ids too (no coalesced document.updated
 * events are written during the run: their window is longer). test/integration/docs-rest.test.ts regenerates the
 * file elsewhere and fails when the committed one differs.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createCollabServer } from '../server/app.ts'
import { parseConfig } from '../server/config.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SOURCE = join(ROOT, 'docs', 'rest.md')
/** Where the examples say the server is. */
const SHOWN_ORIGIN = 'http://localhost:1234'
const SHOWN_TIME = '2026-01-01T12:00:00.000Z'
const SHOWN_DATE = 'Thu, 01 Jan 2026 12:00:00 GMT'
const TOKEN_LINE = /^([A-Z_]+)=\$\(npm run -s token -- (.+)\)$/
/** The package.json script `token`, run without npm. */
const TOKEN_COMMAND = `node ${JSON.stringify(join(ROOT, 'server', 'main.ts'))} token`
/** No example takes long; one that hangs should fail the run, not stall it. */
const COMMAND_TIMEOUT_MS = 30_000

/** Run one command line with bash: its exit status and everything it printed, stdout and stderr in order. */
function bash(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', `exec 2>&1\n${command}`], { cwd, env, stdio: ['ignore', 'pipe', 'inherit'], timeout: COMMAND_TIMEOUT_MS })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    child.on('error', fail)
    child.on('close', (status) => done({ status, output }))
  })
}

/** What a run prints that changes from run to run, made the same. */
function normalise(output: string, origin: string): string {
  return output
    .replaceAll(origin, SHOWN_ORIGIN)
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, SHOWN_TIME)
    .replace(/^(date: ).*GMT\r?$/gim, (_, name: string) => `${name}${SHOWN_DATE}`)
    .replaceAll('\r\n', '\n')
    .trimEnd()
}

/** docs/rest.md with every console example's output replaced by what it prints now. */
async function generate(source: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'docs-rest-'))
  const jwtSecret = randomBytes(48).toString('base64')
  const server = createCollabServer({
    ...parseConfig({ JWT_SECRET: jwtSecret }),
    host: '127.0.0.1',
    port: 0,
    dbPath: join(work, 'collab.db'),
    logLevel: 'silent',
    docIdleUnloadMs: 3_600_000,
    // Coalesced document.updated events come per window, so how many there are depends on timing;
    // with a window longer than the run there are none, and the other events' ids are the same every run.
    eventsWindowMs: 3_600_000,
    // The webhook examples add a receiver on 127.0.0.1 (nothing listens there: no event is sent to it in the run).
    webhookAllowPrivate: true,
  })
  await server.listen()
  const origin = server.url.replace(/^ws/, 'http').replace(/\/ws$/, '').replace(/\/$/, '')
  const env: NodeJS.ProcessEnv = {
    PATH: [join(ROOT, 'node_modules', '.bin'), process.env.PATH].join(delimiter),
    HOME: work,
    LC_ALL: 'C',
    NODE_PATH: join(ROOT, 'node_modules'), // `require('yjs')` in the examples: the project's yjs
    JWT_SECRET: jwtSecret,
  }
  try {
    const out: string[] = []
    let block: string | undefined
    for (const line of source.split('\n')) {
      const fence = /^```(\w*)\s*$/.exec(line)
      if (fence) {
        block = block === undefined ? fence[1] : undefined
        out.push(line)
        continue
      }
      if (block === 'console' && !line.startsWith('$ ')) continue // an old output line: replaced below
      out.push(line)
      const token = block === 'sh' ? TOKEN_LINE.exec(line) : null
      if (token) {
        const minted = await bash(`${TOKEN_COMMAND} ${token[2]}`, work, env)
        if (minted.status !== 0) throw new Error(`${line}\n${minted.output}`)
        env[token[1]!] = minted.output.trim()
      }
      if (block !== 'console') continue
      const command = line.slice(2).replaceAll(SHOWN_ORIGIN, origin)
      const run = await bash(command, work, env)
      if (run.status !== 0) throw new Error(`${line}\nexited with ${run.status}:\n${run.output}`)
      const printed = normalise(run.output, origin)
      if (printed !== '') out.push(...printed.split('\n'))
    }
    return out.join('\n')
  } finally {
    await server.close()
    rmSync(work, { recursive: true, force: true })
  }
}

const args = process.argv.slice(2)
const target = args.includes('--out') ? resolve(args[args.indexOf('--out') + 1]!) : SOURCE
writeFileSync(target, await generate(readFileSync(SOURCE, 'utf8')))
process.stdout.write(`docs:rest: wrote ${target}\n`)
