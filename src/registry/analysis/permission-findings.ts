// Permissions: what the API says each operation needs (`x-keycard-permission`) against the
// permission names allow rules grant (`grants`: `permission:`, or the names of
// `match.permissions`; what the permissions header carries).
// A declared permission no rule grants is one the service will never see the caller hold; a
// granted name no operation declares is probably mistyped.
import type { CompiledPolicy } from '../../policy/types.js';
import type { ApiDescription } from '../types.js';
import { finding, type Finding } from './findings.js';
import type { OperationCoverage } from './operation-coverage.js';

export function permissionFindings(policy: CompiledPolicy, api: ApiDescription, operations: readonly OperationCoverage[]): Finding[] {
  const declared = new Map<string, OperationCoverage[]>();
  for (const coverage of operations) {
    const permission = coverage.operation.permission;
    if (permission === undefined) continue;
    const list = declared.get(permission) ?? [];
    declared.set(permission, [...list, coverage]);
  }
  // A service that declares no permission does not use them: its rules' names are just rule ids.
  if (declared.size === 0) return [];
  const allows = policy.rules.filter((rule) => rule.effect === 'allow');
  const granted = new Set(allows.flatMap((rule) => rule.grants));
  const found: Finding[] = [];
  for (const [permission, coverages] of declared) {
    if (granted.has(permission)) continue;
    const first = coverages[0]!;
    found.push(
      finding('permission_not_granted', {
        service: policy.service,
        file: api.file,
        pointer: first.operation.pointer,
        operation: first.label,
        message: `permission ${permission}, declared by ${coverages.map((coverage) => coverage.label).join(', ')}, is granted by no allow rule`,
      }),
    );
  }
  for (const rule of allows) {
    // The default name is the rule id; only a name the policy spells out can be a typo. Names in
    // match.permissions are checked at load (unknown_permission).
    if (rule.permissions || rule.permission === rule.id || declared.has(rule.permission)) continue;
    found.push(
      finding('permission_not_declared', {
        service: policy.service,
        file: rule.location.file,
        line: rule.location.line,
        rule: rule.id,
        message: `rule ${rule.id} grants permission ${rule.permission}, which no operation of ${api.file} declares`,
      }),
    );
  }
  return found;
}
