// scripts/kind/{up,test,down}.sh. No Docker engine or kind runs here, so:
// - each script is run with a PATH that lacks docker, kind or kubectl, and must stop at once
//   with a message naming what is missing (and change nothing);
// - the order of what up.sh and down.sh do is checked with stand-ins for docker, kind, kubectl
//   and openssl that record their arguments;
// - shellcheck lints the scripts.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/k8s.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const BASH = '/bin/bash';
const temp = mkdtempSync(join(tmpdir(), 'keycard-kind-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

let dirs = 0;
/** A directory for PATH holding only commands of these names (do-nothing stand-ins). */
function binWith(commands: string[]): string {
  const dir = join(temp, `bin${dirs++}`);
  mkdirSync(dir);
  for (const command of commands) {
    writeFileSync(join(dir, command), '#!/bin/bash\nexit 0\n');
    chmodSync(join(dir, command), 0o755);
  }
  return dir;
}

/**
 * Stand-ins that append `NAME ARGS` to the log. Behaviour: docker info fails when
 * `engine: false`; `kind get clusters` prints `clusters`; kubectl `get` finds nothing.
 */
function stubs(options: { engine?: boolean; clusters?: string[] } = {}): { path: string; log: string } {
  const dir = join(temp, `stubs${dirs++}`);
  mkdirSync(dir);
  const log = join(dir, 'calls.log');
  const write = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/bash\necho "${name} $*" >>"${log}"\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  write('docker', options.engine === false
    ? 'if [ "$1" = info ]; then echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1; fi'
    : 'if [ "$1" = info ]; then echo 28.2.2; fi\nif [ "$1" = build ]; then echo "docker build in $PWD" >>"' + log + '"; fi');
  write('kind', `if [ "$1 $2" = "get clusters" ]; then printf '%s\\n' ${(options.clusters ?? []).map((c) => `'${c}'`).join(' ')}; fi`);
  write('kubectl', [
    'args=" $* "',
    'case "$args" in',
    '  *" get "*) exit 1 ;;',
    '  *" create namespace "*) echo "apiVersion: v1"; echo "kind: Namespace" ;;',
    '  *" apply -f - "*) cat >/dev/null ;;',
    'esac',
  ].join('\n'));
  write('openssl', '');
  return { path: `${dir}:/usr/bin:/bin`, log };
}

function run(script: string, args: string[], path: string, env: Record<string, string> = {}) {
  const result = spawnSync(BASH, [join(ROOT, 'scripts/kind', script), ...args], { cwd: temp, encoding: 'utf8', env: { PATH: path, HOME: temp, ...env }, timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function calls(log: string): string[] {
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
}

describe('the kind scripts fail fast when a tool is missing', () => {
  it.each([
    ['up.sh', 'kind-up', 'docker kind kubectl'],
    ['test.sh', 'kind-test', 'docker kind kubectl node curl'],
    ['down.sh', 'kind-down', 'docker kind'],
  ])('%s with an empty PATH names every missing tool', (script, name, missing) => {
    const result = run(script, [], binWith([]));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${name}: error: missing required tools: ${missing}`);
    expect(result.stderr).toMatch(/^ {2}docker: install Docker/m);
    expect(result.stdout).toBe('');
  });

  it.each([
    ['up.sh', 'kind-up'],
    ['test.sh', 'kind-test'],
    ['down.sh', 'kind-down'],
  ])('%s without docker and kind (kubectl, node and curl present) names docker and kind', (script, name) => {
    const result = run(script, [], binWith(['kubectl', 'node', 'curl']));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${name}: error: missing required tools: docker kind\n`);
    expect(result.stderr).toContain('  kind: install kind');
  });

  it('up.sh without kubectl changes nothing: docker is never called', () => {
    const { path, log } = stubs();
    const noKubectl = binWith([]);
    for (const tool of ['docker', 'kind']) symlinkSync(join(path.split(':')[0]!, tool), join(noKubectl, tool));
    const result = run('up.sh', [], noKubectl);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('kind-up: error: missing required tool: kubectl');
    expect(calls(log)).toEqual([]);
  });

  it.each(['up.sh', 'test.sh', 'down.sh'])('%s says so when docker is there but no Docker engine answers', (script) => {
    const { path, log } = stubs({ engine: false });
    const result = run(script, [], path);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/error: docker is installed but no Docker engine answers/);
    expect(result.stderr).toContain('Cannot connect to the Docker daemon');
    expect(calls(log).filter((call) => !call.startsWith('docker info'))).toEqual([]);
  });

  it('up.sh rejects an unknown overlay before touching anything', () => {
    const { path, log } = stubs();
    const result = run('up.sh', ['staging'], path);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('kind-up: error: unknown overlay "staging": choose one of: dev prod shared');
    expect(calls(log)).toEqual([]);
  });

  const noDist = existsSync(join(ROOT, 'dist/cli.js')) ? undefined : ' (skipped: test.sh first asks for dist/, which `make build` makes)';
  it.skipIf(noDist)(`test.sh asks for kind-up when the cluster does not exist${noDist ?? ''}`, () => {
    const { path } = stubs({ clusters: ['other'] });
    const result = run('test.sh', [], path);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`kind-test: error: no kind cluster "keycard": run 'make kind-up' (scripts/kind/up.sh) first`);
  });
});

describe('what the kind scripts do (with stand-ins for docker, kind, kubectl and openssl)', () => {
  const image = `keycard:${VERSION}`;

  it('up.sh dev: creates the cluster, builds and loads the image, applies the overlay, waits', () => {
    const { path, log } = stubs();
    const result = run('up.sh', ['dev'], path);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(calls(log).filter((call) => !/^kubectl .*(create namespace|apply -f -|get )/.test(call))).toEqual([
      'docker info --format {{.ServerVersion}}',
      'kind get clusters',
      'kind create cluster --name keycard --wait 180s',
      `docker build -t ${image} .`,
      `docker build in ${ROOT.replace(/\/$/, '')}`,
      `kind load docker-image ${image} --name keycard`,
      'kubectl --context kind-keycard apply -k deploy/k8s/overlays/dev',
      'kubectl --context kind-keycard -n shop rollout status deployment/orders --timeout=300s',
    ]);
    expect(result.stdout).toContain('kind-up: ready: overlay dev');
  });

  it('up.sh prod: creates the Secrets production keeps outside kustomize, waits for Redis too', () => {
    const { path, log } = stubs({ clusters: ['keycard'] });
    const result = run('up.sh', ['prod'], path);
    expect(result.status, result.stderr).toBe(0);
    const made = calls(log);
    expect(made).not.toContain('kind create cluster --name keycard --wait 180s');
    expect(made).toContain('kubectl --context kind-keycard -n shop create secret generic redis-auth --from-literal=password=' + passwordOf(made));
    expect(made).toContain('kubectl --context kind-keycard -n shop create secret generic keycard-jwks --from-file=jwks.json=examples/keys/jwks.json --dry-run=client -o yaml');
    expect(made.filter((call) => call.includes('rollout status'))).toEqual([
      'kubectl --context kind-keycard -n shop rollout status statefulset/redis --timeout=300s',
      'kubectl --context kind-keycard -n shop rollout status deployment/orders --timeout=300s',
    ]);
    expect(made.indexOf('kubectl --context kind-keycard apply -k deploy/k8s/overlays/prod')).toBeGreaterThan(made.findIndex((call) => call.includes('secret generic keycard-jwks')));
  });

  it('up.sh shared: makes the gateway a TLS certificate, waits for keycard, the apps and the gateway', () => {
    const { path, log } = stubs({ clusters: ['keycard'] });
    const result = run('up.sh', [], path, { KIND_OVERLAY: 'shared' });
    expect(result.status, result.stderr).toBe(0);
    const made = calls(log);
    expect(made.some((call) => call.startsWith('openssl req -x509') && call.includes('subjectAltName=DNS:shop.example.com,DNS:catalog.example.com'))).toBe(true);
    expect(made.some((call) => call.startsWith('kubectl --context kind-keycard -n gateway create secret tls gateway-tls'))).toBe(true);
    expect(made.filter((call) => call.includes('rollout status'))).toEqual([
      'kubectl --context kind-keycard -n keycard rollout status deployment/keycard --timeout=300s',
      'kubectl --context kind-keycard -n shop rollout status deployment/orders --timeout=300s',
      'kubectl --context kind-keycard -n shop rollout status deployment/catalog --timeout=300s',
      'kubectl --context kind-keycard -n gateway rollout status deployment/gateway --timeout=300s',
    ]);
  });

  it('up.sh shared needs openssl', () => {
    const { path, log } = stubs();
    const bin = binWith([]);
    for (const tool of ['docker', 'kind', 'kubectl']) symlinkSync(join(path.split(':')[0]!, tool), join(bin, tool));
    const result = run('up.sh', ['shared'], bin);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('kind-up: error: missing required tool: openssl');
    expect(calls(log)).toEqual([]);
  });

  it('down.sh deletes the cluster, and only when it exists', () => {
    const present = stubs({ clusters: ['keycard'] });
    expect(run('down.sh', [], present.path).status).toBe(0);
    expect(calls(present.log)).toContain('kind delete cluster --name keycard');

    const absent = stubs({ clusters: [] });
    const result = run('down.sh', [], absent.path, { KIND_CLUSTER: 'elsewhere' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('no kind cluster "elsewhere": nothing to delete');
    expect(calls(absent.log).some((call) => call.startsWith('kind delete'))).toBe(false);
  });
});

const SHELLCHECK_MISSING = spawnSync(BASH, ['-c', 'command -v shellcheck']).status !== 0 ? 'shellcheck is not installed (make system-deps installs it)' : undefined;

it.skipIf(SHELLCHECK_MISSING)(`shellcheck finds nothing in the deploy scripts${SHELLCHECK_MISSING ? ` (skipped: ${SHELLCHECK_MISSING})` : ''}`, () => {
  const scripts = ['scripts/kind/lib.sh', 'scripts/kind/up.sh', 'scripts/kind/test.sh', 'scripts/kind/down.sh', 'scripts/k8s-policy-check.sh'];
  const result = spawnSync('shellcheck', ['-x', ...scripts], { cwd: ROOT, encoding: 'utf8' });
  expect(result.stdout).toBe('');
  expect(result.status).toBe(0);
});

function passwordOf(made: string[]): string {
  return /--from-literal=password=([0-9a-f]{64})$/.exec(made.find((call) => call.includes('create secret generic redis-auth')) ?? '')?.[1] ?? '(none)';
}
