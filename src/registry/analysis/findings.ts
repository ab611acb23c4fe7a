// Coverage findings: stable codes (never renamed; add new ones), each with a fixed severity.
// Errors fail `keycard coverage` (exit 2); warnings fail it only with --strict (exit 1).

export type Severity = 'error' | 'warning';

export const COVERAGE_FINDINGS = {
  operation_unreachable: { severity: 'error', meaning: 'no allow rule grants the operation to any caller: every caller is denied' },
  anonymous_unsafe_method: { severity: 'error', meaning: 'callers without a credential may use an operation whose method is not read-only' },
  rule_matches_no_operation: { severity: 'warning', meaning: 'the rule matches no operation of the API: dead, or its methods or paths are mistyped' },
  path_matches_no_operation: { severity: 'warning', meaning: "one of the rule's path templates matches no operation of the API" },
  param_name_mismatch: { severity: 'warning', meaning: "the rule binds a path segment under another name than the API's parameter" },
  dry_run_only_grant: { severity: 'warning', meaning: 'callers get the operation only because a deny rule or the service is in dry-run' },
  permission_not_declared: { severity: 'warning', meaning: 'a permission named in a rule is declared by no operation (x-keycard-permission)' },
  permission_not_granted: { severity: 'warning', meaning: 'a permission an operation declares is granted by no allow rule' },
} as const satisfies Record<string, { severity: Severity; meaning: string }>;

export type FindingCode = keyof typeof COVERAGE_FINDINGS;

export const FINDING_CODES = Object.keys(COVERAGE_FINDINGS) as FindingCode[];

export interface Finding {
  readonly code: FindingCode;
  readonly severity: Severity;
  readonly service: string;
  /** The policy file (rule findings) or the API description (operation findings). */
  readonly file: string;
  /** Line in the policy file, for rule findings. */
  readonly line?: number;
  /** JSON pointer of the operation in the API description, for operation findings. */
  readonly pointer?: string;
  /** The operation: its operationId, else `METHOD /path`. */
  readonly operation?: string;
  readonly rule?: string;
  readonly message: string;
}

export function finding(code: FindingCode, fields: Omit<Finding, 'code' | 'severity'>): Finding {
  return { code, severity: COVERAGE_FINDINGS[code].severity, ...fields };
}

/** Findings in report order: by service, then catalogue order, keeping discovery order within. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return findings
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => compare(a.entry.service, b.entry.service) || FINDING_CODES.indexOf(a.entry.code) - FINDING_CODES.indexOf(b.entry.code) || a.index - b.index)
    .map(({ entry }) => entry);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function countBySeverity(findings: readonly Finding[]): { errors: number; warnings: number } {
  const errors = findings.filter((entry) => entry.severity === 'error').length;
  return { errors, warnings: findings.length - errors };
}
