// `keycard coverage --format json`: a stable schema (`keycard.coverage/v1`, documented in the
// README). Absent values are null, never missing keys, so consumers can rely on every field.
import { callerLabel } from './caller-class.js';
import type { CoverageReport } from './coverage-report.js';
import type { Finding } from './findings.js';
import type { RuleCase } from './rule-case.js';
import { verdictText } from './verdict-text.js';

export const COVERAGE_SCHEMA = 'keycard.coverage/v1';

const ruleCase = (entry: RuleCase) => ({ rule: entry.rule.id, requires: [...entry.requires] });

export function findingJson(entry: Finding) {
  return {
    code: entry.code,
    severity: entry.severity,
    service: entry.service,
    file: entry.file,
    line: entry.line ?? null,
    pointer: entry.pointer ?? null,
    operation: entry.operation ?? null,
    rule: entry.rule ?? null,
    message: entry.message,
  };
}

export function coverageJson(report: CoverageReport) {
  return {
    schema: COVERAGE_SCHEMA,
    services: report.services.map((service) => ({
      service: service.policy.service,
      policy: service.policy.file,
      api: service.api.file,
      mode: service.policy.mode,
      callers: service.callers.map(callerLabel),
      operations: service.operations.map((coverage) => ({
        operation: coverage.label,
        operationId: coverage.operation.operationId ?? null,
        method: coverage.operation.method,
        path: coverage.operation.path,
        permission: coverage.operation.permission ?? null,
        rules: [...coverage.rules.map((entry) => ({ rule: entry.rule, match: 'all' })), ...coverage.partial.map((rule) => ({ rule, match: 'some' }))].map(({ rule, match }) => ({
          id: rule.id,
          effect: rule.effect,
          line: rule.location.line,
          anonymous: rule.anonymous,
          dryRun: rule.dryRun,
          conditions: rule.conditions.map((condition) => condition.description),
          match,
        })),
        verdicts: coverage.verdicts.map((verdict) => ({
          caller: callerLabel(verdict.caller),
          decision: verdict.decision,
          text: verdictText(verdict),
          grants: verdict.grants.map(ruleCase),
          denies: verdict.denies.map(ruleCase),
          dryRunDenies: verdict.dryRunDenies.map(ruleCase),
        })),
      })),
    })),
    findings: report.findings.map(findingJson),
    summary: {
      services: report.services.length,
      operations: report.services.reduce((sum, service) => sum + service.operations.length, 0),
      errors: report.errors,
      warnings: report.warnings,
    },
  };
}
