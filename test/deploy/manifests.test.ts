// deploy/k8s: every overlay renders offline with `kubectl kustomize`, and every rendered object
// is a valid Kubernetes object: no unknown field (a typo such as `replicaz`), right types,
// required fields present.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { find, findAll, K8S_DIR, KUSTOMIZE_UNAVAILABLE, OVERLAYS, podTemplate, render, renderOverlay, ROOT, selects, type K8sObject } from '../helpers/k8s.js';
import { validateK8sObject } from '../helpers/k8s-schema.js';

const FIXTURES = join(ROOT, 'test/fixtures/k8s/invalid');

/** What each overlay must contain (kind/name; generated ConfigMaps by their base name). */
const EXPECTED: Record<(typeof OVERLAYS)[number], string[]> = {
  dev: ['Namespace/shop', 'Deployment/orders', 'Service/orders', 'PodDisruptionBudget/orders', 'NetworkPolicy/orders', 'ConfigMap/envoy-sidecar', 'ConfigMap/keycard-settings', 'ConfigMap/keycard-policies', 'Secret/keycard-jwks'],
  prod: ['Namespace/shop', 'Deployment/orders', 'Service/orders', 'PodDisruptionBudget/orders', 'NetworkPolicy/orders', 'ConfigMap/envoy-sidecar', 'ConfigMap/keycard-settings', 'ConfigMap/keycard-policies', 'StatefulSet/redis', 'Service/redis', 'NetworkPolicy/redis'],
  shared: ['Namespace/shop', 'Deployment/orders', 'Service/orders', 'NetworkPolicy/orders', 'Deployment/keycard', 'Service/keycard', 'PodDisruptionBudget/keycard', 'NetworkPolicy/keycard', 'Deployment/gateway', 'Service/gateway', 'NetworkPolicy/gateway', 'ConfigMap/envoy-gateway', 'ConfigMap/keycard-settings', 'ConfigMap/keycard-policies', 'Secret/keycard-jwks'],
};

describe.skipIf(KUSTOMIZE_UNAVAILABLE)(KUSTOMIZE_UNAVAILABLE ? `deploy/k8s manifests (skipped: ${KUSTOMIZE_UNAVAILABLE})` : 'deploy/k8s manifests', () => {
  describe.each(OVERLAYS)('overlay %s', (overlay) => {
    it('renders with kubectl kustomize and holds the expected objects', () => {
      const objects = renderOverlay(overlay);
      for (const entry of EXPECTED[overlay]) {
        const [kind, name] = entry.split('/') as [string, string];
        expect(() => find(objects, kind, name), entry).not.toThrow();
      }
    });

    it('validates every object against the Kubernetes API types (unknown fields are errors)', () => {
      const problems = renderOverlay(overlay).flatMap((object) => validateK8sObject(object));
      expect(problems).toEqual([]);
    });

    it('puts every namespaced object in a namespace the overlay creates', () => {
      const objects = renderOverlay(overlay);
      const namespaces = findAll(objects, 'Namespace').map((namespace) => namespace.metadata.name);
      expect(namespaces).toContain('shop');
      for (const object of objects.filter((candidate) => candidate.kind !== 'Namespace')) {
        expect(namespaces, `${object.kind}/${object.metadata.name}`).toContain(object.metadata.namespace);
      }
    });

    it('hardens every pod: non-root, read-only root, no capabilities, RuntimeDefault seccomp, resources', () => {
      for (const workload of renderOverlay(overlay).filter((object) => ['Deployment', 'StatefulSet'].includes(object.kind))) {
        const pod = podTemplate(workload);
        const label = `${workload.kind}/${workload.metadata.name}`;
        expect(pod.spec.securityContext, label).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
        for (const c of pod.spec.containers) {
          const where = `${label} container ${c.name}`;
          expect(c.securityContext, where).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
          // runAsNonRoot needs a numeric user when the image's USER is a name or root.
          expect(c.securityContext?.runAsUser ?? (pod.spec.securityContext as { runAsUser?: number } | undefined)?.runAsUser, where).toBeGreaterThan(0);
          expect(c.resources?.requests?.cpu, where).toBeDefined();
          expect(c.resources?.requests?.memory, where).toBeDefined();
          expect(c.resources?.limits?.memory, where).toBeDefined();
          expect(c.image, where).toMatch(/:[\w.-]+$/); // a tag, never an implicit :latest
          expect(c.readinessProbe, `${where} readinessProbe`).toBeDefined();
        }
      }
    });

    it('points every selector at pods and every Service port at a container port', () => {
      const objects = renderOverlay(overlay);
      const workloads = objects.filter((object) => ['Deployment', 'StatefulSet'].includes(object.kind));
      const podsIn = (namespace: string | undefined) => workloads.filter((workload) => workload.metadata.namespace === namespace).map(podTemplate);
      for (const service of findAll(objects, 'Service')) {
        const spec = service.spec as { selector: Record<string, string>; ports: { name: string; targetPort: number | string }[] };
        const selected = podsIn(service.metadata.namespace).filter((pod) => selects(spec.selector, pod.metadata.labels));
        expect(selected.length, `Service/${service.metadata.name} selects pods`).toBeGreaterThan(0);
        for (const port of spec.ports) {
          const resolved = selected.every((pod) => pod.spec.containers.some((c) => c.ports?.some((p) => p.name === port.targetPort || p.containerPort === port.targetPort)));
          expect(resolved, `Service/${service.metadata.name} port ${port.name} → ${port.targetPort}`).toBe(true);
        }
      }
      for (const object of [...findAll(objects, 'PodDisruptionBudget'), ...findAll(objects, 'NetworkPolicy')]) {
        const selector = ((object.spec as { selector?: { matchLabels: Record<string, string> }; podSelector?: { matchLabels: Record<string, string> } }).selector ??
          (object.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector).matchLabels;
        expect(podsIn(object.metadata.namespace).some((pod) => selects(selector, pod.metadata.labels)), `${object.kind}/${object.metadata.name} selects pods`).toBe(true);
      }
    });
  });

  describe('the validator', () => {
    const fixtures = readdirSync(FIXTURES).filter((file) => file.endsWith('.yaml'));

    it.each(fixtures)('rejects %s with its expected message', (file) => {
      const text = readFileSync(join(FIXTURES, file), 'utf8');
      const expected = /^# expect: (.+)$/m.exec(text)?.[1];
      expect(expected, `${file} names its expected message`).toBeDefined();
      expect(validateK8sObject(parse(text))).toEqual([expected]);
    });

    it('accepts the valid parts of those fixtures once the error is fixed', () => {
      const fixed = parse(readFileSync(join(FIXTURES, 'deployment-replicaz.yaml'), 'utf8')) as K8sObject;
      const spec = fixed.spec as Record<string, unknown>;
      spec.replicas = spec.replicaz;
      delete spec.replicaz;
      expect(validateK8sObject(fixed)).toEqual([]);
    });

    describe('on a typo that kustomize itself lets through', () => {
      const dir = mkdtempSync(join(tmpdir(), 'keycard-kustomize-'));
      afterAll(() => rmSync(dir, { recursive: true, force: true }));

      it('fails `replicaz` patched into the dev overlay', () => {
        writeFileSync(
          join(dir, 'kustomization.yaml'),
          [
            'apiVersion: kustomize.config.k8s.io/v1beta1',
            'kind: Kustomization',
            `resources: [${relative(dir, join(K8S_DIR, 'overlays/dev'))}]`,
            'patches:',
            '  - target: { kind: Deployment, name: orders }',
            '    patch: |-',
            '      - { op: add, path: /spec/replicaz, value: 2 }',
          ].join('\n'),
        );
        const objects = render(dir);
        expect(find(objects, 'Deployment', 'orders').spec).toHaveProperty('replicaz', 2); // kustomize kept it
        expect(objects.flatMap((object) => validateK8sObject(object))).toEqual(['Deployment/orders: spec.replicaz: unknown field (did you mean "replicas"?)']);
      });
    });
  });
});
