/**
 * The CLI's usage and `--help` text. The environment section is generated
 * from the config's own table (`ENV_VARS` and `defaultConfig` in
 * server/config.ts), so a new variable shows up here by itself.
 */
import { ENV_VARS, type EnvVar, defaultConfig, type CollabConfig } from '../config.ts'
import { TOKEN_USAGE } from './token.ts'

export const COMMAND = 'yjs-collab-server'

/** The commands, one line each. */
export const USAGE = `usage:
  ${COMMAND} [start]          start the server, configured by the environment variables below
  ${COMMAND} token ...        print a signed token for a user (${COMMAND} token --help)
  ${COMMAND} --help, -h       this text
  ${COMMAND} --version, -v    the version`

function shownDefault(spec: EnvVar<keyof CollabConfig>): string {
  if (spec.shownDefault) return spec.shownDefault
  const value: unknown = defaultConfig[spec.key]
  if (value === undefined) return 'unset'
  if (typeof value === 'boolean') return value ? 'on' : 'off'
  if (Array.isArray(value)) return value.join(',')
  return String(value)
}

/** Everything `--help` prints. */
export function helpText(version: string): string {
  const width = Math.max(...Object.keys(ENV_VARS).map((name) => name.length))
  const variables = Object.entries(ENV_VARS).map(
    ([name, spec]) => `  ${name.padEnd(width)}  ${spec.doc} [default: ${shownDefault(spec)}]\n  ${' '.repeat(width)}  ${spec.allowed}`,
  )
  return `${COMMAND} ${version}: a collaborative document server for Yjs (Hocuspocus 4), SQLite by default, PostgreSQL + Redis to scale out.

${USAGE}

token:
${TOKEN_USAGE.replace(/^/gm, '  ')}

environment (read once at start; a bad value stops it with exit code 2):
${variables.join('\n')}
`
}
