// Acknowledged losses for `keycard diff`: entries from --accept FILE (YAML list of
// {service, operation, caller, reason}) and --accept-loss SERVICE:OPERATION:CALLER. An entry
// acknowledges every loss of that operation (its operationId or `METHOD /path`) for that caller.
import { z } from 'zod';
import { readYamlFile, validate } from '../../config/yaml-file.js';
import type { AccessChange } from './access-diff.js';

const CALLER = /^(anonymous|authenticated|role:.+)$/;

export interface Acceptance {
  /** `SERVICE:OPERATION:CALLER`, compared whole (service names and roles may contain ":" themselves). */
  readonly key: string;
  readonly reason: string | undefined;
  /** Where it was given: `file:line`, or `--accept-loss`. */
  readonly source: string;
}

const acceptFileSchema = z.array(
  z.strictObject({
    service: z.string().min(1),
    operation: z.string().min(1),
    caller: z.string().regex(CALLER, 'caller is anonymous, authenticated or role:NAME'),
    reason: z.string().min(1).optional(),
  }),
);

/** Throws ConfigError (file, line, key) when the file is unreadable or malformed. */
export function readAcceptFile(file: string): Acceptance[] {
  const { source, value } = readYamlFile(file);
  // An empty file accepts nothing.
  const entries = validate(source, acceptFileSchema, value ?? []);
  return entries.map((entry, index) => ({
    key: `${entry.service}:${entry.operation}:${entry.caller}`,
    reason: entry.reason,
    source: `${file}:${source.locate([index]).line}`,
  }));
}

/** An --accept-loss value, or undefined when it cannot be SERVICE:OPERATION:CALLER. */
export function parseAcceptLoss(text: string): Acceptance | undefined {
  if (!/^[^:]+:.+:(anonymous|authenticated|role:.+)$/.test(text)) return undefined;
  return { key: text, reason: undefined, source: '--accept-loss' };
}

/** The operation is named by its operationId (as reported) or as `METHOD /path`. */
export function accepts(entry: Acceptance, change: AccessChange): boolean {
  return entry.key === `${change.service}:${change.operation}:${change.caller}` || entry.key === `${change.service}:${change.method} ${change.path}:${change.caller}`;
}

export interface Acknowledged {
  /** For each lost change, the first entry acknowledging it. */
  readonly acceptedBy: ReadonlyMap<AccessChange, Acceptance>;
  /** Entries that acknowledge no loss: stale, or mistyped. */
  readonly unused: readonly Acceptance[];
}

export function acknowledge(changes: readonly AccessChange[], entries: readonly Acceptance[]): Acknowledged {
  const acceptedBy = new Map<AccessChange, Acceptance>();
  const used = new Set<Acceptance>();
  for (const change of changes) {
    if (change.change !== 'lost') continue;
    const entry = entries.find((candidate) => accepts(candidate, change));
    if (!entry) continue;
    acceptedBy.set(change, entry);
    used.add(entry);
  }
  return { acceptedBy, unused: entries.filter((entry) => !used.has(entry)) };
}
