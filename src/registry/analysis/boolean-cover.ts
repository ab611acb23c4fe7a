// A short description of a set of cases. Each case is one combination of requirements (bit i set:
// requirement i holds); the set is summarised as a few conjunctions that cover exactly those cases
// (prime implicants, Quine–McCluskey, then a greedy cover). With the handful of requirements one
// operation's rules mention this is instant, and it keeps "lost when scope x and not header y"
// readable instead of listing every combination.

/** One conjunction: per requirement, 1 must hold, 0 must not hold, -1 either. */
export type Term = readonly (0 | 1 | -1)[];

function termOf(mask: number, width: number): Term {
  return Array.from({ length: width }, (_, bit) => ((mask >> bit) & 1 ? 1 : 0));
}

function merge(a: Term, b: Term): Term | undefined {
  let differing = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (a[i] === -1 || b[i] === -1 || differing >= 0) return undefined;
    differing = i;
  }
  return differing < 0 ? undefined : a.map((value, i) => (i === differing ? -1 : value));
}

function covers(term: Term, mask: number): boolean {
  return term.every((value, bit) => value === -1 || value === ((mask >> bit) & 1));
}

/** Conjunctions covering exactly `cases` (masks over `width` requirements); [] when there are none. */
export function coverCases(cases: readonly number[], width: number): Term[] {
  if (cases.length === 0) return [];
  let current = [...new Map(cases.map((mask) => [mask, termOf(mask, width)])).values()];
  const primes: Term[] = [];
  while (current.length > 0) {
    const next = new Map<string, Term>();
    const merged = new Set<number>();
    for (let i = 0; i < current.length; i++) {
      for (let j = i + 1; j < current.length; j++) {
        const term = merge(current[i]!, current[j]!);
        if (!term) continue;
        merged.add(i).add(j);
        next.set(term.join(','), term);
      }
    }
    current.forEach((term, index) => merged.has(index) || primes.push(term));
    current = [...next.values()];
  }
  // Greedy cover: the prime covering most uncovered cases first, ties in discovery order.
  const uncovered = new Set(cases);
  const chosen: Term[] = [];
  while (uncovered.size > 0) {
    let best = primes[0]!;
    let bestCount = -1;
    for (const term of primes) {
      const count = [...uncovered].filter((mask) => covers(term, mask)).length;
      if (count > bestCount) [best, bestCount] = [term, count];
    }
    chosen.push(best);
    for (const mask of [...uncovered]) if (covers(best, mask)) uncovered.delete(mask);
  }
  return chosen;
}

/** A term in words: `scope x and not header y is present`; `always` when it constrains nothing. */
export function termText(term: Term, names: readonly string[]): string {
  const parts = term.flatMap((value, i) => (value === -1 ? [] : [value === 1 ? names[i]! : `not ${names[i]!}`]));
  return parts.length === 0 ? 'always' : parts.join(' and ');
}
