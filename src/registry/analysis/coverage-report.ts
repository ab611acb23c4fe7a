// `keycard coverage` as data: every service with an API description, analysed, and all findings.
import type { CompiledPolicy } from '../../policy/types.js';
import type { ApiDescription } from '../types.js';
import { countBySeverity, sortFindings, type Finding } from './findings.js';
import { serviceCoverage, type ServiceCoverage } from './service-coverage.js';

export interface CoverageInput {
  readonly policy: CompiledPolicy;
  readonly api: ApiDescription;
  /** Roles the store binds for the service. */
  readonly roles: readonly string[];
}

export interface CoverageReport {
  /** Sorted by service name. */
  readonly services: readonly ServiceCoverage[];
  readonly findings: readonly Finding[];
  readonly errors: number;
  readonly warnings: number;
}

export async function coverageReport(inputs: readonly CoverageInput[]): Promise<CoverageReport> {
  const sorted = [...inputs].sort((a, b) => (a.policy.service < b.policy.service ? -1 : a.policy.service > b.policy.service ? 1 : 0));
  const services: ServiceCoverage[] = [];
  for (const input of sorted) services.push(await serviceCoverage(input.policy, input.api, input.roles));
  const findings = sortFindings(services.flatMap((service) => service.findings));
  return { services, findings, ...countBySeverity(findings) };
}

/** Exit status: 2 with errors, 1 with warnings under --strict, else 0. */
export function coverageExitCode(report: Pick<CoverageReport, 'errors' | 'warnings'>, strict: boolean): number {
  if (report.errors > 0) return 2;
  return strict && report.warnings > 0 ? 1 : 0;
}
