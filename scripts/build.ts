/**
 * `npm run build` — also run by `npm pack` and `npm publish` (`prepack`) and
 * by the Dockerfile — writes the compiled package into dist/ (or `--out DIR`):
 *
 *   dist/server, dist/client   ESM JavaScript, .d.ts and source maps (tsc -p tsconfig.build.json)
 *   dist/client/demo/dist      the web page the server serves at / (Vite; no source maps,
 *                              which would be 4 MB of the package)
 *
 * The folder is emptied first, so nothing of a removed source file lingers.
 * Development runs from the TypeScript sources and needs none of this.
 *
 *   node scripts/build.ts [--out DIR]
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { buildDemo } from './build-demo.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** Build the package into `outDir`. */
export async function buildPackage(outDir: string): Promise<void> {
  rmSync(outDir, { recursive: true, force: true })
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' })
  chmodSync(join(outDir, 'server', 'bin.js'), 0o755)
  await buildDemo({ outDir: join(outDir, 'client', 'demo', 'dist'), sourcemap: false, quiet: true })
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(ROOT, 'dist') } } })
  await buildPackage(resolve(values.out))
}
