// Coverage of one service: every operation of its API description against its policy, for every
// caller class, and the findings that follow from it.
import type { CompiledPolicy } from '../../policy/types.js';
import type { ApiDescription } from '../types.js';
import { callerClasses, type CallerClass } from './caller-class.js';
import { serviceFindings } from './coverage-findings.js';
import type { Finding } from './findings.js';
import { operationCoverage, type OperationCoverage } from './operation-coverage.js';

export interface ServiceCoverage {
  readonly policy: CompiledPolicy;
  readonly api: ApiDescription;
  readonly callers: readonly CallerClass[];
  /** In document order. */
  readonly operations: readonly OperationCoverage[];
  readonly findings: readonly Finding[];
}

/** `roles`: the roles the store binds for the service (see rolesForService). */
export async function serviceCoverage(policy: CompiledPolicy, api: ApiDescription, roles: readonly string[]): Promise<ServiceCoverage> {
  const callers = callerClasses(roles);
  const operations: OperationCoverage[] = [];
  for (const operation of api.operations) operations.push(await operationCoverage(policy, operation, callers));
  return { policy, api, callers, operations, findings: serviceFindings(policy, api, operations) };
}
