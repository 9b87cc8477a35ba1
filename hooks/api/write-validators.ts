/**
 * Writes dist/hooks/validators.cjs (see ./validator-source.ts). Part of `npm run build` and of
 * every npm script that compiles with tsc, so the validators always match the compiled code.
 */
import { writeFileSync } from 'node:fs'
import { VALIDATORS_MODULE } from '../schema.js'
import { validatorModuleSource } from './validator-source.js'

writeFileSync(VALIDATORS_MODULE, validatorModuleSource())
