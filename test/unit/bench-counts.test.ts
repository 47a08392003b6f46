import { describe, expect, it } from 'vitest'
import { gauge } from '../../bench/lib/counts.ts'
import { Metrics } from '../../server/metrics.ts'

describe('soak reads documents and connections from the server\'s own /metrics text', () => {
  it('finds both gauges in what the registry serves, and not a metric whose name only starts the same', async () => {
    const metrics = new Metrics()
    metrics.gauges({ connections: () => 7, documents: () => 3 })
    const text = await metrics.registry.metrics()
    expect(gauge(text, 'collab_documents_loaded')).toBe(3)
    expect(gauge(text, 'collab_connections')).toBe(7)
    expect(gauge(text, 'collab_documents')).toBeNull()
  })
})
