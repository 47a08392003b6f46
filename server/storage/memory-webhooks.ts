/** Webhook endpoints in process memory (tests): the contract of sqlite-webhooks.ts. */
import type { DeliveryOutcome, WebhookConfig, WebhookEndpoint, WebhookFailure, WebhookStore } from './types.ts'

export class MemoryWebhooks implements WebhookStore {
  private readonly endpoints = new Map<string, WebhookEndpoint>()
  private readonly failed: WebhookFailure[] = []
  private readonly busy = new Set<string>()
  private nextFailure = 1

  async list(): Promise<WebhookEndpoint[]> {
    return [...this.endpoints.values()].sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  async get(id: string): Promise<WebhookEndpoint | null> {
    return this.endpoints.get(id) ?? null
  }

  async put(e: WebhookConfig, cursor: number): Promise<WebhookEndpoint> {
    const old = this.endpoints.get(e.id)
    if (old && !(old.source === 'config' && e.source === 'config')) return old
    const state = old ?? { cursor, attempts: 0, nextAt: 0, firstFailedAt: null, lastError: null }
    const endpoint: WebhookEndpoint = { ...e, cursor: state.cursor, attempts: state.attempts, nextAt: state.nextAt, firstFailedAt: state.firstFailedAt, lastError: state.lastError }
    this.endpoints.set(e.id, endpoint)
    return endpoint
  }

  async delete(id: string): Promise<boolean> {
    for (let i = this.failed.length - 1; i >= 0; i--) if (this.failed[i]!.endpoint === id) this.failed.splice(i, 1)
    return this.endpoints.delete(id)
  }

  async claim(id: string, now: number, work: (endpoint: WebhookEndpoint, replays: readonly WebhookFailure[]) => Promise<DeliveryOutcome>): Promise<boolean> {
    const endpoint = this.endpoints.get(id)
    const replays = this.failed.filter((f) => f.endpoint === id && f.replay)
    if (!endpoint || this.busy.has(id) || (endpoint.nextAt > now && replays.length === 0)) return false
    this.busy.add(id)
    try {
      const { state, parked, replayed } = await work(endpoint, replays)
      const current = this.endpoints.get(id)
      if (!current) return true
      this.endpoints.set(id, { ...current, ...state })
      for (const p of parked) this.failed.push({ id: this.nextFailure++, endpoint: id, event: p.event, attempts: p.attempts, lastError: p.lastError, failedAt: Date.now(), replay: false })
      for (const r of replayed) {
        const i = this.failed.findIndex((f) => f.id === r.id)
        if (i < 0) continue
        if (r.delivered) this.failed.splice(i, 1)
        else this.failed[i] = { ...this.failed[i]!, replay: false, lastError: r.error ?? 'failed', attempts: this.failed[i]!.attempts + 1, failedAt: Date.now() }
      }
      return true
    } finally {
      this.busy.delete(id)
    }
  }

  async failures(endpoint: string): Promise<WebhookFailure[]> {
    return this.failed.filter((f) => f.endpoint === endpoint)
  }

  async replay(endpoint: string, failure: number): Promise<boolean> {
    const i = this.failed.findIndex((f) => f.endpoint === endpoint && f.id === failure)
    if (i < 0) return false
    this.failed[i] = { ...this.failed[i]!, replay: true }
    return true
  }
}
