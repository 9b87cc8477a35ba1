/**
 * `npm test` runs the test files as tsc compiled them (dist/**\/*.test.js), not through a
 * TypeScript loader in every test process. tsc never deletes output, so a test that was deleted
 * or renamed in the sources would still run from dist/. This removes every compiled test (and
 * its source map) whose .ts source is gone, and names it. Run after tsc, before tap.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'
import { repoPath } from '../paths.js'

function compiledTests(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) compiledTests(path, out)
    else if (entry.name.endsWith('.test.js')) out.push(path)
  }
  return out
}

const dist = repoPath('dist')
for (const compiled of compiledTests(dist)) {
  const source = repoPath(relative(dist, compiled).replace(/\.js$/, '.ts'))
  if (existsSync(source)) continue
  rmSync(compiled)
  rmSync(`${compiled}.map`, { force: true })
  console.log(`removed ${relative(repoPath(), compiled)}: its source ${relative(repoPath(), source)} no longer exists`)
}
