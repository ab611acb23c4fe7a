// A settings file with policies, seed and keys for the CLI tests: the helpers' orders policy plus
// a `reports` policy with time, step-up and permission rules and a dry-run `beta` policy.
import { jwks, makeKey, type TestKey } from '../helpers/keys.js';
import { ORDERS_POLICY, SEED, settingsYaml, Workspace } from '../helpers/workspace.js';

export const REPORTS_POLICY = `
service: reports
hosts: [reports.shop.svc]
rules:
  - id: office-hours
    effect: allow
    match: { methods: [GET], paths: ["/reports/{id}"] }
    when: [{ role: analyst }, { timeWindow: { days: [mon, tue, wed, thu, fri], hours: "09:00-18:00", timeZone: UTC } }]
  - id: export
    effect: allow
    match: { methods: [POST], paths: ["/reports/{id}/export"] }
    when: [{ role: analyst }, { maxAuthAge: 5m }]
forward: { permissionsHeader: true }
`;

export const BETA_POLICY = `
service: beta
mode: dry-run
rules:
  - id: staff-only
    effect: allow
    match: { paths: ["/**"] }
    when: [{ role: support }]
`;

export interface CliFixture {
  readonly workspace: Workspace;
  readonly config: string;
  readonly key: TestKey;
}

export async function cliFixture(): Promise<CliFixture> {
  const workspace = new Workspace();
  const key = await makeKey('ES256');
  workspace.write('jwks.json', jwks(key));
  workspace.write('seed.yaml', `${SEED}  - { subject: ana, roles: [analyst], service: reports }\n`);
  workspace.write('policies/orders.yaml', ORDERS_POLICY);
  workspace.write('policies/reports.yaml', REPORTS_POLICY);
  workspace.write('policies/beta.yaml', BETA_POLICY);
  const config = workspace.write('keycard.yaml', settingsYaml());
  return { workspace, config, key };
}
