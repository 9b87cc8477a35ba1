/** Fuzzing MoneroNetwork's sync hook through HTTP: see testing/fuzz.ts (FUZZ_SEED, FUZZ_RUNS). */
import { fuzzKinds } from './testing/fuzz.js'

fuzzKinds(['MoneroNetwork'])
