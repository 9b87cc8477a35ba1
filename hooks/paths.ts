import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The repository (or image) root: the nearest ancestor of this file that has crds/. Works
 * from sources (hooks/) and from compiled output (dist/hooks/).
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'crds')) && existsSync(join(dir, 'package.json'))) return dir
    const parent = resolve(dir, '..')
    if (parent === dir) throw new Error('cannot find the directory that holds crds/ and package.json')
    dir = parent
  }
}

export const ROOT = findRoot()

/** A path inside the repository root. */
export function repoPath(...parts: string[]): string {
  return join(ROOT, ...parts)
}
