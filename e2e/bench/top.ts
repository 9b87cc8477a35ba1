/**
 * Summarises a .cpuprofile (from `node --cpu-prof`): self time by function and by package,
 * the numbers to quote when reporting a hot spot.  Usage: node dist/e2e/bench/top.js FILE [N]
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const [file, n = '25'] = process.argv.slice(2)
if (!file) throw new Error('usage: top.js FILE.cpuprofile [N]')
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const self = new Map<number, number>()
for (const [i, id] of profile.samples.entries()) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
const total = [...self.values()].reduce((a, b) => a + b, 0)

const where = (url: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (m) return m[1] as string
  if (url.includes('/dist/hooks/')) return `hooks/${url.split('/dist/hooks/')[1]}`
  if (url.includes('/dist/e2e/')) return `e2e/${url.split('/dist/e2e/')[1]}`
  return url.startsWith('node:') ? url : url === '' ? '(native/gc/idle)' : url
}
const fns = new Map<string, number>()
const pkgs = new Map<string, number>()
for (const [id, us] of self) {
  const node = byId.get(id)
  if (!node) continue
  const f = node.callFrame
  const key = `${f.functionName || '(anonymous)'}  ${where(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`
  fns.set(key, (fns.get(key) ?? 0) + us)
  const pkg = where(f.url).replace(/^(hooks\/[^/]+).*$/, '$1')
  pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us)
}
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled)`)
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(n))) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`)
  }
}
show('self time by function', fns)
show('self time by package or file', pkgs)
