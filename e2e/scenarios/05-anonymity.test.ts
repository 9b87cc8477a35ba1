// Scenario (e): the Tor + I2P MoneroNodeSet (examples/moneronodeset-tor-i2p.yaml, image
// overridden, small requests): the tor and i2pd sidecars start as non-root from the files the
// hook rendered, and the addresses they derive from the keys are the ones in
// status.hiddenServices.
import t from 'tap'
import { exampleObjects } from '../apiserver/kube.js'
import { OFFLINE_ARGS, SMALL, STORAGE_SIZE, pathFor, phase, podReady, scenarioEnv, setupScenario } from './harness.js'

type Json = Record<string, any>

const env = scenarioEnv(t, ['monerodImage'])
if (env) {
  t.test('Tor and I2P sidecars', async (t) => {
    const s = await setupScenario(t, env, 'anonymity')
    const nodeSet = structuredClone(exampleObjects().find((e) => e.file === 'moneronodeset-tor-i2p.yaml')!.object as Json)
    nodeSet.spec.monerod = { image: env.monerodImage, imagePullPolicy: env.pullPolicy, resources: SMALL, args: OFFLINE_ARGS }
    nodeSet.spec.storage = { size: STORAGE_SIZE }
    nodeSet.spec.terminationGracePeriodSeconds = 30
    const name = nodeSet.metadata.name as string
    const replicas = nodeSet.spec.replicas as number
    const selector = `app.kubernetes.io/instance=${name},app.kubernetes.io/part-of=moneronodeset`

    const pods = await phase(`${replicas} pods Ready`, async () => {
      await s.create(nodeSet)
      return s.waitFor(
        `${replicas} Ready pods`,
        async () => {
          const p = await s.pods(selector)
          return p.length === replicas && p.every(podReady) && p
        },
        300,
      )
    })
    const parent = await s.waitFor(
      'status.hiddenServices',
      async () => {
        const p = await s.get(pathFor('MoneroNodeSet', s.namespace, name))
        return (p.status?.hiddenServices as Json[] | undefined)?.length === replicas && p
      },
      60,
    )

    await phase('sidecars non-root, addresses as in the status', async () => {
      for (const pod of pods) {
        const pn = pod.metadata.name as string
        const replica = Number(pn.split('-').pop())
        const expected = (parent.status.hiddenServices as Json[]).find((h) => h.replica === replica)!
        for (const container of ['tor', 'i2pd']) {
          const st = (pod.status.containerStatuses as Json[]).find((c) => c.name === container)
          t.ok(st?.state?.running, `${pn}/${container} running`)
          const uid = s.exec(pn, container, ['id', '-u']).trim()
          t.not(uid, '0', `${pn}/${container} runs as uid ${uid}`)
        }
        const torArgs = JSON.stringify(pod.spec.containers.find((c: Json) => c.name === 'tor').args)
        t.match(torArgs, /\/etc\/monero-operator\/tor\/torrc/, `${pn}: tor reads the rendered torrc`)
        const onion = await s.waitFor(
          `${pn}: tor wrote its hostname`,
          async () => s.exec(pn, 'tor', ['cat', '/var/lib/tor/hidden_service/hostname']).trim(),
          60,
        )
        t.equal(onion, expected.onion, `${pn}: tor's .onion is status.hiddenServices[${replica}].onion`)
        // i2pd's web console answers only requests for Host: localhost ("host mismatch" otherwise).
        const script =
          "require('http').get({ host: '127.0.0.1', port: 7070, path: '/?page=i2p_tunnels', headers: { Host: 'localhost' } }, (r) => { let t = ''; r.on('data', (c) => (t += c)); r.on('end', () => process.stdout.write(t)) })"
        const page = await s.waitFor(
          `${pn}: i2pd shows its server tunnel`,
          async () => {
            const text = s.exec(pn, 'i2pd', ['node', '-e', script])
            const server = text.split('Server Tunnels')[1] ?? ''
            return /\.b32\.i2p/.test(server) && server
          },
          60,
        )
        t.ok(page.includes(`${expected.i2p}:`), `${pn}: i2pd's server tunnel is status.hiddenServices[${replica}].i2p (${expected.i2p})`)
      }
    })
  })
}
