/** `npm run gen:crds`: writes crds/*.yaml from hooks/api/crds.ts. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { renderCrdFiles } from './render-crds.js'
import { repoPath } from '../paths.js'

for (const [file, text] of Object.entries(renderCrdFiles())) {
  writeFileSync(join(repoPath('crds'), file), text)
  console.log(`wrote crds/${file}`)
}
