/**
 * The secrets in a configuration, and a scrubber that takes them out of text
 * before it is written anywhere (log lines, a start-up failure). Libraries put
 * more in their errors than one would think: ioredis attaches the failed
 * command to a reply error, so a refused `AUTH` carries the password.
 */
import type { CollabConfig } from './config.ts'

/** What a secret is replaced with. */
export const REDACTED = '[redacted]'

/** Shorter strings are not scrubbed: they would match ordinary text (and are no real secret). */
const MIN_SCRUBBED_LENGTH = 4

/** Query parameters that carry a password in the URLs ioredis and pg accept (`?password=…`). */
const PASSWORD_PARAMS = ['password', 'pass', 'sslpassword']

/** A value as written and percent-decoded. */
function bothForms(value: string): string[] {
  try {
    return [value, decodeURIComponent(value)]
  } catch {
    return [value]
  }
}

/** The passwords of a URL (in its user info, or in a password query parameter), as written and percent-decoded; none when it does not parse. */
function urlPasswords(raw: string | undefined): string[] {
  if (!raw) return []
  try {
    const url = new URL(raw)
    const found = url.password ? bothForms(url.password) : []
    for (const pair of url.search.slice(1).split('&')) {
      const [name = '', value = ''] = pair.split('=')
      if (PASSWORD_PARAMS.includes(name.toLowerCase()) && value) found.push(...bothForms(value))
    }
    return found
  } catch {
    return []
  }
}

/** Every secret value in `config`: JWT_SECRET, METRICS_TOKEN, and the passwords in DATABASE_URL and REDIS_URL. */
export function secretsOf(config: Pick<CollabConfig, 'jwtSecret' | 'metricsToken' | 'databaseUrl' | 'redisUrl'>): string[] {
  const found = [config.jwtSecret, config.metricsToken, ...urlPasswords(config.databaseUrl), ...urlPasswords(config.redisUrl)]
  return [...new Set(found.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SCRUBBED_LENGTH))]
}

/**
 * A function that replaces every secret in a text with `[redacted]`, in its
 * plain and its JSON-escaped form (log lines are JSON). Longest first, so a
 * secret containing another is replaced whole.
 */
export function scrubber(secrets: readonly string[]): (text: string) => string {
  const forms = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))].sort((a, b) => b.length - a.length)
  if (forms.length === 0) return (text) => text
  return (text) => {
    let out = text
    for (const form of forms) if (out.includes(form)) out = out.replaceAll(form, REDACTED)
    return out
  }
}
