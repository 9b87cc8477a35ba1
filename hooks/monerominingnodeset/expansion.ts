/**
 * Kubernetes' `$(VAR)` expansion of container command and args, as the kubelet does it:
 * `$(NAME)` becomes the value of the container's env var NAME, `$$` becomes `$`, and a
 * reference to a variable that is not defined is left as written (never blanked). We use it
 * to find the variables an argument refers to, and tests use it to see what xmrig receives.
 */

/** One `$(NAME)` reference in a string, with its position. */
export interface VarReference {
  readonly name: string
  readonly start: number
}

/** Walks `input` as the kubelet does, calling `onVar` for each reference and `onText` for literal text. */
function walk(input: string, onText: (s: string) => void, onVar: (name: string, start: number) => void): void {
  let i = 0
  let text = ''
  while (i < input.length) {
    const c = input[i] as string
    if (c !== '$' || i + 1 >= input.length) {
      text += c
      i++
      continue
    }
    const next = input[i + 1] as string
    if (next === '$') {
      // escaped operator: `$$` is a literal `$`
      text += '$'
      i += 2
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2)
      if (close < 0) {
        // an unterminated reference stays as written
        text += '$('
        i += 2
      } else {
        onText(text)
        text = ''
        onVar(input.slice(i + 2, close), i)
        i = close + 1
      }
    } else {
      text += `$${next}`
      i += 2
    }
  }
  onText(text)
}

/** The `$(NAME)` references in `input` that the kubelet would try to expand. */
export function findReferences(input: string): VarReference[] {
  const out: VarReference[] = []
  walk(
    input,
    () => undefined,
    (name, start) => out.push({ name, start }),
  )
  return out
}

/** Expands `input` with `env`; undefined references stay as `$(NAME)`, like the kubelet. */
export function expandVars(input: string, env: Readonly<Record<string, string>>): string {
  let out = ''
  walk(
    input,
    (s) => {
      out += s
    },
    (name) => {
      out += Object.hasOwn(env, name) ? env[name] : `$(${name})`
    },
  )
  return out
}
