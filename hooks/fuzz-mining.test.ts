/** Fuzzing MoneroMiningNodeSet's sync hook through HTTP: see testing/fuzz.ts (FUZZ_SEED, FUZZ_RUNS). */
import { fuzzKinds } from './testing/fuzz.js'

// and every served kind not in the expected list, once it exists
fuzzKinds(['MoneroMiningNodeSet'], true)
