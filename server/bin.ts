#!/usr/bin/env node
/**
 * The `yjs-collab-server` command. Deliberately tiny: it checks the Node
 * version against the package's `engines` BEFORE anything else is loaded —
 * the server's native dependency (better-sqlite3) crashes the process on an
 * older Node instead of failing politely — and only then loads the CLI.
 */
import { packageInfo, satisfiesNode } from './package-info.ts'

const { name, nodeRange } = packageInfo()
if (!satisfiesNode(process.versions.node, nodeRange)) {
  process.stderr.write(`${name} needs Node.js ${nodeRange}, but this is Node.js ${process.version}; install a newer Node.js and run it again.\n`)
  process.exit(1)
}
await import('./main.ts')
