/**
 * Whether a process that wrote to a SQLite file is still there. A SQLite
 * file is shared only by processes of one host (WAL needs shared memory), so
 * a process recorded with this host's name and a pid that is not running is
 * gone — at once, without waiting for a lease or a heartbeat to run out.
 */
import { hostname } from 'node:os'

export const HOST = hostname()

/** Whether the process `pid` of host `host` may still be running (another host's: it cannot be told, so yes). */
export function mayRun(host: string, pid: number): boolean {
  if (host !== HOST) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
