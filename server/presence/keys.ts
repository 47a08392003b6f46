/**
 * Redis names of cluster presence (docs/protocol.md, "Presence across
 * instances"). After the prefix comes `~`, never `:` — the stock Redis
 * extension's channels and keys are `<prefix>:<document>…` — so no document
 * name can collide with them.
 */
export interface PresenceKeys {
  /** Set of the instance ids that announced themselves and have not been cleaned up. */
  readonly instances: string
  /** A string with a TTL: present while the instance announces itself. */
  alive(instanceId: string): string
  /** Set of `[documentName, clientId]` members: the awareness client ids the instance's connections speak for. */
  hosts(instanceId: string): string
  /** Pub/sub channel of the awareness removals of clients that left (normally) at some instance. */
  readonly leaves: string
}

export function presenceKeys(prefix: string): PresenceKeys {
  return {
    instances: `${prefix}~instances`,
    alive: (id) => `${prefix}~alive:${id}`,
    hosts: (id) => `${prefix}~hosts:${id}`,
    leaves: `${prefix}~leaves`,
  }
}

/** One awareness client id of one document. */
export type HostedEntry = [documentName: string, clientId: number]

export const hostedMember = (documentName: string, clientId: number): string => JSON.stringify([documentName, clientId])

export function parseHostedMember(member: string): HostedEntry | undefined {
  try {
    const value: unknown = JSON.parse(member)
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && Number.isInteger(value[1])) return [value[0], value[1] as number]
  } catch {
    // not ours: ignored below
  }
  return undefined
}
