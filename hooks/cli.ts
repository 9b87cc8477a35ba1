/**
 * `npm run --silent cli -- <command>`:
 *   render [--status] FILE...   children the hook returns for new resources (FILE may be -)
 *   exporter ...                the monerod/xmrig metrics exporter (see --help)
 *   init-node ...               init container / sidecar of monerod pods (peer addresses, config file)
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ConfigError, loadHookConfig } from './config.js'
import { parseResources, RenderError, renderYaml } from './render.js'

const USAGE = `usage:
  cli render [--status] [--key-seed-file FILE] FILE...   print the children of each resource (FILE may be -)
  cli exporter --monerod URL | --xmrig URL [options]     serve Prometheus metrics (cli exporter --help)
  cli init-node --out FILE [--include FILE]... [--wait-peers [--watch [--refresh-seconds N]]]
                [--interval-seconds N] [--max-wait-seconds N] [--replica-from-hostname | --replica N]
                [--tor-keys DIR --tor-out DIR [--tor-inbound PORT,MAX]]
                [--i2p-keys DIR --i2p-out DIR --i2p-file NAME... [--i2p-inbound PORT,MAX]]
                                                         prepare a monerod pod: write its config file with the
                                                         addresses of its peer names (--wait-peers: once all
                                                         resolve); --watch: keep it current every N s (10)
`

async function render(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseRenderArgs>
  try {
    parsed = parseRenderArgs(argv)
  } catch (err) {
    throw new RenderError(`render: ${(err as Error).message}\n${USAGE}`)
  }
  const { values, positionals: files } = parsed
  if (files.length === 0) throw new RenderError(`render: give at least one FILE (or - for stdin)\n${USAGE}`)
  const resources = files.flatMap((file) => {
    const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8')
    const source = file === '-' ? 'stdin' : file
    return parseResources(text, source).map((resource) => ({ resource, source }))
  })
  // the hook server's own loader: the same image and key seed, read the same way
  const config = loadHookConfig(process.env, { keySeedFile: values['key-seed-file'] })
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
  process.stdout.write(renderYaml(resources, { config, now }, values.status === true, (m) => process.stderr.write(`note: ${m}\n`)))
  return 0
}

/** `render` options: `-` (stdin) and file names are positionals. */
function parseRenderArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { status: { type: 'boolean' }, 'key-seed-file': { type: 'string' } },
  })
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'render':
      return render(rest)
    case 'exporter': {
      const { runExporterCommand } = await import('./exporter/command.js')
      await runExporterCommand(rest)
      return 0
    }
    case 'init-node': {
      const { runInitNode } = await import('./init-node/init-node.js')
      return runInitNode(rest)
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE)
      return command === undefined ? 2 : 0
    default:
      process.stderr.write(`unknown command ${JSON.stringify(command)}\n${USAGE}`)
      return 2
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof RenderError || err instanceof ConfigError || (err as NodeJS.ErrnoException)?.code === 'ENOENT') {
      process.stderr.write(`error: ${(err as Error).message}\n`)
    } else {
      process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    }
    process.exitCode = 1
  },
)
