/**
 * `npm start`: serves the hooks on HOST:PORT with JSON logs, drains in-flight requests on
 * SIGTERM/SIGINT and exits. Settings: loadServerConfig() in config.ts (environment).
 */
import { loadServerConfig } from './config.js'
import { buildServer } from './server.js'

async function main(): Promise<void> {
  const config = loadServerConfig(process.env)
  const app = buildServer({
    config: config.hook,
    logger: { level: config.logLevel },
    bodyLimit: config.bodyLimit,
    requestTimeout: config.requestTimeout,
    bearerToken: config.bearerToken,
  })
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    const force = setTimeout(() => {
      app.log.error('in-flight requests did not finish within 25s; exiting')
      process.exit(1)
    }, 25_000)
    force.unref()
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error while closing')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  await app.listen({ port: config.port, host: config.host })
  app.log.info({ keySeed: config.hook.keySeed ? 'configured' : 'absent', operatorImage: config.hook.operatorImage }, 'hook server ready')
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ level: 50, msg: 'failed to start', err: String(err) }))
  process.exit(1)
})
