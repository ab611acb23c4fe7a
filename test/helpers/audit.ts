// Reading keycard's audit log (JSON lines) in tests: it is written in batches, so a line may
// appear some time after its decision.
import { existsSync, readFileSync } from 'node:fs';

export interface AuditWait {
  /** How long to wait for the line before failing. */
  readonly timeoutMs?: number;
  /** How long to pause between reads. */
  readonly intervalMs?: number;
  /** Called before each read, e.g. to flush an in-process AuditLog. */
  readonly flush?: () => void;
}

/** The audit line of the decision `decisionId` in `file`, read again until it is there. */
export async function waitForAuditLine<T = Record<string, unknown>>(file: string, decisionId: string, { timeoutMs = 5_000, intervalMs = 100, flush }: AuditWait = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    flush?.();
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const line = text.split('\n').find((candidate) => candidate.includes(`"decision_id":"${decisionId}"`));
    if (line) return JSON.parse(line) as T;
    if (Date.now() > deadline) throw new Error(`no audit line for ${decisionId}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
