// `keycard diff` over every service: the access changes, which losses are acknowledged, and the
// exit status (1 while an enforced loss is not acknowledged).
import { acknowledge, type Acceptance } from './accept.js';
import { serviceDiff, type AccessChange, type ServiceDiffInput } from './access-diff.js';

export interface DiffReport {
  readonly from: string;
  readonly to: string;
  /** Services compared (with an API description on either side), sorted. */
  readonly services: readonly string[];
  /** Grouped by service (sorted) and operation (document order), lost before gained. */
  readonly changes: readonly AccessChange[];
  readonly acceptedBy: ReadonlyMap<AccessChange, Acceptance>;
  readonly unusedAcceptances: readonly Acceptance[];
  readonly totals: { readonly gained: number; readonly lost: number; readonly accepted: number; readonly unaccepted: number };
}

export async function diffReport(dirs: { from: string; to: string }, inputs: readonly ServiceDiffInput[], acceptances: readonly Acceptance[]): Promise<DiffReport> {
  const sorted = [...inputs].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  const changes: AccessChange[] = [];
  for (const input of sorted) changes.push(...(await serviceDiff(input)));
  const { acceptedBy, unused } = acknowledge(changes, acceptances);
  const lost = changes.filter((change) => change.change === 'lost');
  // A loss under a dry-run policy is recorded, not enforced: it cuts nobody off yet.
  const unaccepted = lost.filter((change) => !acceptedBy.has(change) && !change.dryRun).length;
  return {
    ...dirs,
    services: sorted.map((input) => input.service),
    changes,
    acceptedBy,
    unusedAcceptances: unused,
    totals: { gained: changes.length - lost.length, lost: lost.length, accepted: acceptedBy.size, unaccepted },
  };
}

export function diffExitCode(report: DiffReport): number {
  return report.totals.unaccepted > 0 ? 1 : 0;
}

/** Changes grouped by service, then operation, in report order. */
export function groupChanges(changes: readonly AccessChange[]): Map<string, Map<string, AccessChange[]>> {
  const groups = new Map<string, Map<string, AccessChange[]>>();
  for (const change of changes) {
    let byOperation = groups.get(change.service);
    if (!byOperation) groups.set(change.service, (byOperation = new Map()));
    const key = `${change.operation}\0${change.method} ${change.path}`;
    byOperation.set(key, [...(byOperation.get(key) ?? []), change]);
  }
  return groups;
}
