/**
 * Profiling aid: drives one benchmark case for a while against the in-process server, so that
 * `node --cpu-prof` sees only the hook server's work (the load generator is a child process).
 *
 *   node --cpu-prof --cpu-prof-dir=bench-results/profiles dist/e2e/bench/profile.js 'MoneroNodeSet(3)' 50 10
 *   node dist/e2e/bench/top.js bench-results/profiles/<file>.cpuprofile
 */
import { CASES, prepareCase } from './cases.js'
import { LoadChild, startServer } from './harness.js'

const [name = 'MoneroNodeSet(3)', connections = '50', seconds = '10'] = process.argv.slice(2)
const spec = name === 'empty' ? undefined : CASES.find((c) => c.name === name)
if (name !== 'empty' && !spec) throw new Error(`no case ${name}; cases: empty, ${CASES.map((c) => c.name).join(', ')}`)
const prepared = spec ? prepareCase(spec) : undefined
if (prepared && !prepared.available) throw new Error(`${name}: skipped: not available (${prepared.reason})`)
const { app, base } = await startServer()
const load = new LoadChild()
const url = prepared?.available ? prepared.url : '/bench/empty'
const body = prepared?.available ? prepared.body : '{}'
const s = await load.run({ url: base + url, method: 'POST', body, connections: Number(connections), duration: Number(seconds) })
console.log(JSON.stringify(s))
load.close()
await app.close()
