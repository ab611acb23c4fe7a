// The configuration that deploy/k8s embeds in ConfigMaps and Secrets is the real thing:
// - the Envoy configs are byte-for-byte envoy/sidecar.yaml and envoy/gateway.yaml, and pass the
//   strict Envoy validation (test/helpers/envoy-validate.ts);
// - the development JWKS is examples/keys/jwks.json;
// - keycard's settings, seed and policies, laid out as each keycard container sees them under
//   /etc/keycard, pass `keycard lint --strict` and the cluster policies' unit tests;
// - the overlays' settings differ from the base settings only where they mean to.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatEnvoyProblems, validateEnvoyYaml } from '../helpers/envoy-validate.js';
import { container, filesOf, find, K8S_DIR, KUSTOMIZE_UNAVAILABLE, materializeMounts, renderOverlay, ROOT, type K8sObject, type Overlay } from '../helpers/k8s.js';

const CLI = join(ROOT, 'dist/cli.js');
const SYNC_HINT = 'run `make k8s-sync` to copy it into deploy/k8s';

/** Where each overlay runs keycard, and which Envoy config it embeds. */
const KEYCARD: Record<Overlay, { workload: string; namespace: string }> = {
  dev: { workload: 'orders', namespace: 'shop' },
  prod: { workload: 'orders', namespace: 'shop' },
  shared: { workload: 'keycard', namespace: 'keycard' },
};
const ENVOY: Record<Overlay, { configMap: string; namespace: string; source: string }> = {
  dev: { configMap: 'envoy-sidecar', namespace: 'shop', source: 'envoy/sidecar.yaml' },
  prod: { configMap: 'envoy-sidecar', namespace: 'shop', source: 'envoy/sidecar.yaml' },
  shared: { configMap: 'envoy-gateway', namespace: 'gateway', source: 'envoy/gateway.yaml' },
};
/**
 * Secrets an overlay expects to exist already (created outside kustomize). The prod overlay
 * trusts the identity provider's keys; the development keys stand in for them here, as they
 * do in scripts/kind/up.sh.
 */
const EXTERNAL_SECRETS = { 'keycard-jwks': { 'jwks.json': readFileSync(join(ROOT, 'examples/keys/jwks.json'), 'utf8') } };

function inNamespace(objects: readonly K8sObject[], namespace: string): K8sObject[] {
  return objects.filter((object) => object.metadata.namespace === namespace);
}

function configMapData(overlay: Overlay, name: string, namespace: string): Record<string, string> {
  return find(inNamespace(renderOverlay(overlay), namespace), 'ConfigMap', name).data as Record<string, string>;
}

/** The `service:` of every policy in the overlay's keycard-policies ConfigMap. */
function policyServices(overlay: Overlay): string[] {
  const policies = configMapData(overlay, 'keycard-policies', KEYCARD[overlay].namespace);
  return Object.values(policies).map((text) => (parse(text) as { service: string }).service);
}

/** The container's environment; a variable from a Secret gets a stand-in value. */
function containerEnv(target: ReturnType<typeof container>): Record<string, string> {
  return Object.fromEntries(
    (target.env ?? []).map((variable) => [
      variable.name,
      variable.value ?? `stand-in for Secret ${variable.valueFrom?.secretKeyRef?.name}/${variable.valueFrom?.secretKeyRef?.key}`,
    ]),
  );
}

function cli(args: string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, KEYCARD_CONFIG: '', ...env } });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe.skipIf(KUSTOMIZE_UNAVAILABLE)(KUSTOMIZE_UNAVAILABLE ? `deploy/k8s embedded configuration (skipped: ${KUSTOMIZE_UNAVAILABLE})` : 'deploy/k8s embedded configuration', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

  describe.each(['dev', 'prod', 'shared'] as const)('overlay %s', (overlay) => {
    const envoy = ENVOY[overlay];

    it(`embeds ${envoy.source} unchanged`, () => {
      const embedded = configMapData(overlay, envoy.configMap, envoy.namespace)['envoy.yaml'];
      expect(embedded === readFileSync(join(ROOT, envoy.source), 'utf8'), `ConfigMap ${envoy.configMap} differs from ${envoy.source}: ${SYNC_HINT}`).toBe(true);
    });

    it('embeds an Envoy config that passes the strict Envoy validation', () => {
      const source = `overlays/${overlay} ConfigMap ${envoy.configMap} data.envoy.yaml`;
      const problems = validateEnvoyYaml(configMapData(overlay, envoy.configMap, envoy.namespace)['envoy.yaml']!, { source, knownServices: policyServices(overlay) });
      expect(formatEnvoyProblems(problems, source)).toBe('');
    });

    it('gives keycard settings, seed, policies and keys that pass `keycard lint --strict`', () => {
      const { workload, namespace } = KEYCARD[overlay];
      const objects = inNamespace(renderOverlay(overlay), namespace);
      const deployment = find(objects, 'Deployment', workload);
      const root = mkdtempSync(join(tmpdir(), `keycard-k8s-${overlay}-`));
      roots.push(root);
      expect(materializeMounts(objects, deployment, 'keycard', root, EXTERNAL_SECRETS)).toEqual([]);
      const args = container(deployment, 'keycard').args ?? [];
      const config = args[args.indexOf('--config') + 1];
      expect(config, 'keycard runs with --config FILE').toMatch(/^\/etc\/keycard\//);
      const settingsFile = join(root, config!);
      expect(existsSync(settingsFile), `${config} is mounted`).toBe(true);

      const env = containerEnv(container(deployment, 'keycard'));
      const lint = cli(['lint', '--strict', '--config', settingsFile], env);
      expect(lint.output).toMatch(/^ok: 2 policies, \d+ rules .*; 0 warnings$/m);
      expect(lint.status, lint.output).toBe(0);

      // The cluster policies' unit tests, against what the container sees.
      const tests = cli(['test', '--config', settingsFile, join(K8S_DIR, 'config/policies')], env);
      expect(tests.output).toMatch(/^\d+ passed, 0 failed$/m);
      expect(tests.status, tests.output).toBe(0);
    });
  });

  it('embeds the development JWKS unchanged (components/dev-keys)', () => {
    for (const overlay of ['dev', 'shared'] as const) {
      const secret = find(inNamespace(renderOverlay(overlay), KEYCARD[overlay].namespace), 'Secret', 'keycard-jwks');
      const jwks = filesOf(renderOverlay(overlay), 'Secret', secret.metadata.name)?.['jwks.json'];
      expect(jwks === EXTERNAL_SECRETS['keycard-jwks']['jwks.json'], `Secret keycard-jwks (${overlay}) differs from examples/keys/jwks.json: ${SYNC_HINT}`).toBe(true);
    }
  });

  it('every copy `make k8s-sync` makes is up to date', () => {
    const copies = execFileSync('make', ['-s', '-n', 'k8s-sync'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');
    expect(copies.length).toBeGreaterThanOrEqual(3);
    for (const line of copies) {
      const [command, source, destination] = line.split(' ');
      expect(command).toBe('cp');
      expect(readFileSync(join(ROOT, destination!), 'utf8') === readFileSync(join(ROOT, source!), 'utf8'), `${destination} differs from ${source}: ${SYNC_HINT}`).toBe(true);
    }
  });

  it('keeps the development keys out of the prod overlay', () => {
    expect(renderOverlay('prod').filter((object) => object.kind === 'Secret')).toEqual([]);
  });

  describe('settings that overlays replace differ from deploy/k8s/config/keycard.yaml only where they mean to', () => {
    const base = parse(readFileSync(join(K8S_DIR, 'config/keycard.yaml'), 'utf8')) as Record<string, unknown>;
    const settingsOf = (overlay: Overlay) => parse(configMapData(overlay, 'keycard-settings', KEYCARD[overlay].namespace)['keycard.yaml']!) as Record<string, unknown>;
    const without = (settings: Record<string, unknown>, keys: string[]) => Object.fromEntries(Object.entries(settings).filter(([key]) => !keys.includes(key)));

    it('dev uses the base settings as they are', () => {
      expect(settingsOf('dev')).toEqual(base);
    });

    it('prod changes only the store, to Redis', () => {
      const prod = settingsOf('prod');
      expect(without(prod, ['store'])).toEqual(without(base, ['store']));
      expect(prod.store).toMatchObject({ type: 'redis', passwordEnv: 'REDIS_PASSWORD' });
    });

    it('shared changes only its listeners, onto the pod network', () => {
      const shared = settingsOf('shared');
      expect(without(shared, ['grpc', 'http'])).toEqual(without(base, ['grpc', 'http']));
      expect(shared.grpc).toEqual({ listen: '0.0.0.0:9001' });
      expect(shared.http).toEqual({ listen: '0.0.0.0:9002' });
    });

    it('the seed is the same everywhere', () => {
      for (const overlay of ['dev', 'prod', 'shared'] as const) {
        expect(configMapData(overlay, 'keycard-settings', KEYCARD[overlay].namespace)['seed.yaml']).toBe(readFileSync(join(K8S_DIR, 'config/seed.yaml'), 'utf8'));
      }
    });
  });

  it('scripts/k8s-policy-check.sh passes (lint --strict and the policy tests, as documented)', () => {
    const result = spawnSync(join(ROOT, 'scripts/k8s-policy-check.sh'), { encoding: 'utf8' });
    expect(result.stdout).toMatch(/^\d+ passed, 0 failed$/m);
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });
});
