// Arguments for node:util parseArgs when values may start with a dash. Session ids, cookie values
// and token ids are base64url: one in 32 starts with "-", which parseArgs takes for an option
// ("Unknown option '-a'") or refuses as the value of a string option ("argument is ambiguous").
// keycard's commands define no short options, so a single-dash word is always a value: this
// rewrites `--opt -x` as `--opt=-x` and moves single-dash positionals behind `--`, in order.

type OptionTypes = Readonly<Record<string, { readonly type: 'string' | 'boolean' }>>;

export function dashSafeArgs(args: readonly string[], options: OptionTypes): string[] {
  const flagsAndOptions: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const name = arg.slice(2);
    const next = args[i + 1];
    if (options[name]?.type === 'string' && next !== undefined && next.startsWith('-') && !next.startsWith('--')) {
      flagsAndOptions.push(`${arg}=${next}`);
      i++;
    } else {
      flagsAndOptions.push(arg);
      // A string option's value (not starting with a dash) stays next to it.
      if (options[name]?.type === 'string' && next !== undefined && !next.startsWith('-')) flagsAndOptions.push(args[++i]!);
    }
  }
  return [...flagsAndOptions, '--', ...positionals];
}
