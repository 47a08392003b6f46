/**
 * The live progress line: rewritten in place on a terminal, one line every few
 * seconds otherwise (CI logs), on stderr so stdout stays for the summary.
 */
const tty = process.stderr.isTTY === true
let last = 0
let open = false

export function progress(line: string, force = false): void {
  if (tty) {
    const width = process.stderr.columns ?? 120
    process.stderr.write(`\r\x1b[2K${line.slice(0, width - 1)}`)
    open = true
    return
  }
  const now = Date.now()
  if (!force && now - last < 5000) return
  last = now
  process.stderr.write(`${line}\n`)
}

/** End the live line and print a permanent one. */
export function say(line: string): void {
  if (open) process.stderr.write('\n')
  open = false
  process.stderr.write(`${line}\n`)
}
