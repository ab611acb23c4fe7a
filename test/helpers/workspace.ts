// A temporary directory with a settings file, policies, seed and keys, removed after the test.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export class Workspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'keycard-test-'));

  path(name: string): string {
    return join(this.dir, name);
  }

  write(name: string, content: string | object): string {
    const file = this.path(name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return file;
  }

  /** Writes each of `files` (name → content). */
  writeAll(files: Readonly<Record<string, string | object>>): this {
    for (const [name, content] of Object.entries(files)) this.write(name, content);
    return this;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A settings file for one test issuer whose keys are in `jwks.json`, policies in `policies/`. */
export function settingsYaml(extra = ''): string {
  return `
grpc: { listen: 127.0.0.1:0 }
admin: { listen: 127.0.0.1:0 }
issuers:
  - name: test-idp
    issuer: https://idp.test.example/
    audiences: [shop]
    jwksFile: jwks.json
    algorithms: [RS256, ES256]
    jwksMinRefreshInterval: 0s
policies: { dir: policies }
store: { type: memory, seedFile: seed.yaml }
audit: { output: audit.log }
log: { level: warn }
${extra}`;
}

export const ORDERS_POLICY = `
service: orders
hosts: [orders.shop.svc]
authentication: { issuers: [test-idp] }
rules:
  - id: health
    effect: allow
    match: { methods: [GET], paths: [/healthz] }
    anonymous: true
  - id: read
    effect: allow
    match: { methods: [GET], paths: ["/orders/{id}"] }
    when: [{ role: [customer, support] }]
  - id: refund
    effect: allow
    match: { methods: [POST], paths: ["/orders/{id}/refund"] }
    when: [{ role: finance }]
  - id: legacy-off
    effect: deny
    match: { paths: ["/v1/**"] }
  - id: support-all
    effect: allow
    match: { paths: ["/**"] }
    when: [{ role: support }]
`;

export const SEED = `
roleBindings:
  - { subject: alice, roles: [customer] }
  - { subject: sam, roles: [support] }
  - { subject: fiona, roles: [finance], service: orders }
`;
