// The Dockerfile and .dockerignore, without a Docker engine (none runs here):
// - the image is built the way the brief of the image says (multi-stage, native build tools,
//   production dependencies only, non-root, health check, ports, entry point);
// - a rehearsal of the build stage: the build context that .dockerignore lets through, with
//   exactly what the build stage COPYs, builds with the same `make build` the Dockerfile runs;
// - the built code imports only production dependencies, which is all `npm prune --omit=dev`
//   leaves in the runtime image.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { all, execForm, exposedPorts, readDockerfile, type Stage } from '../helpers/dockerfile.js';
import { ROOT } from '../helpers/k8s.js';

const { stages } = readDockerfile();
const build = stages[0]!;
const runtime = stages.at(-1)!;
const runs = (stage: Stage) => all(stage, 'RUN').map((instruction) => instruction.args).join('\n');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

describe('Dockerfile', () => {
  it('has a build stage and a runtime stage, both on Node 20', () => {
    expect(stages).toHaveLength(2);
    expect(build.name).toBe('build');
    for (const stage of stages) expect(stage.from).toMatch(/^node:20(\.\d+)*-[\w-]*slim$/);
  });

  it('gives the build stage what re2 needs to compile (python3, make, g++) and builds with make build', () => {
    const install = all(build, 'RUN').find((instruction) => instruction.args.includes('apt-get install'))?.args ?? '';
    for (const tool of ['python3', 'make', 'g++']) expect(install.split(/\s+/), tool).toContain(tool);
    expect(install).toContain('rm -rf /var/lib/apt/lists/*');
    expect(runs(build)).toMatch(/npm (ci|install)\b/);
    expect(runs(build)).toMatch(/\bmake build\b/);
    // The runtime copies node_modules after the build stage dropped the dev dependencies.
    expect(runs(build)).toMatch(/npm prune --omit=dev/);
  });

  it('copies only dist/, the production node_modules and package.json into the runtime stage', () => {
    const copies = all(runtime, 'COPY').map((instruction) => instruction.args);
    expect(copies.every((args) => args.startsWith('--from=build '))).toBe(true);
    expect(copies.map((args) => args.split(/\s+/)[1])).toEqual(['/src/package.json', '/src/node_modules/', '/src/dist/']);
    expect(all(runtime, 'RUN')).toEqual([]); // no compiler, no npm in the runtime image
  });

  it('runs as a numeric non-root user, so that Kubernetes can enforce runAsNonRoot', () => {
    const user = all(runtime, 'USER').at(-1)?.args ?? '';
    expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
  });

  it('checks /healthz, exposes 9001 9002 9090 and starts `node dist/cli.js serve`', () => {
    const healthcheck = all(runtime, 'HEALTHCHECK')[0]?.args ?? '';
    expect(healthcheck).toMatch(/^--interval=\S+ --timeout=\S+ --start-period=\S+ --retries=\d+ CMD \[/);
    expect(healthcheck).toContain('/healthz');
    expect(exposedPorts(runtime).sort()).toEqual([9001, 9002, 9090]);
    expect(execForm(all(runtime, 'ENTRYPOINT')[0]!.args)).toEqual(['node', 'dist/cli.js', 'serve']);
    expect(all(runtime, 'WORKDIR').at(-1)?.args).toBe('/app');
  });

  it('runs the health check command as written (node -e ... exits 1 when nothing answers)', () => {
    const command = execForm(all(runtime, 'HEALTHCHECK')[0]!.args.replace(/^.*?CMD /, ''));
    expect(command[0]).toBe('node');
    // Nothing listens on 9090 in the test process's network namespace... unless a keycard does:
    // run it against a closed port instead, by rewriting the port.
    const probe = spawnSync(process.execPath, command.slice(1).map((arg) => arg.replace(':9090/', ':1/')), { encoding: 'utf8', timeout: 10_000 });
    expect(probe.status).toBe(1);
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const excluded = dockerIgnore(patterns);

  it('keeps build output, dependencies, the git history and everything the build does not read out of the context', () => {
    for (const path of ['node_modules/yaml/package.json', 'dist/cli.js', '.git/HEAD', 'build/envoy-config.binpb', 'proto/vendor/envoy-api', 'src/protocol/generated/keycard.binpb', 'test/deploy/dockerfile.test.ts', 'deploy/k8s/base/kustomization.yaml', 'examples/keys/dev-rs256.private.jwk.json', 'README.md', 'npm-debug.log']) {
      expect(excluded(path), path).toBe(true);
    }
  });

  it('lets through every source the build stage COPYs', () => {
    for (const source of copySources(build)) expect(excluded(source), source).toBe(false);
    expect(excluded('src/cli.ts')).toBe(false);
    expect(excluded('proto/validate-compat/validate/validate.proto')).toBe(false);
  });

  describe('a rehearsal of the build stage on the context it lets through', () => {
    const context = mkdtempSync(join(tmpdir(), 'keycard-docker-context-'));
    afterAll(() => rmSync(context, { recursive: true, force: true }));

    it('builds dist/ with `make build` from exactly what the build stage COPYs', { timeout: 180_000 }, () => {
      for (const instruction of all(build, 'COPY')) {
        const words = instruction.args.split(/\s+/);
        const destination = words.at(-1)!;
        for (const source of words.slice(0, -1)) {
          // Each source lands at the same relative path (the WORKDIR is the context root).
          expect(destination === './' || destination.replace(/\/$/, '') === source.replace(/\/$/, ''), instruction.args).toBe(true);
          copyContext(join(ROOT, source), join(context, source), excluded);
        }
      }
      // `npm install` is the step before; here the installed node_modules stand in for it.
      symlinkSync(join(ROOT, 'node_modules'), join(context, 'node_modules'));
      const result = spawnSync('make', ['-o', 'node_modules/.package-lock.json', 'build'], { cwd: context, encoding: 'utf8' });
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
      const help = spawnSync(process.execPath, [join(context, 'dist/cli.js'), 'help'], { encoding: 'utf8' });
      expect(help.stdout).toContain('keycard serve');
    });

    it('produces code that imports only production dependencies (what npm prune --omit=dev keeps)', () => {
      const dist = join(context, 'dist');
      expect(existsSync(dist), 'the rehearsal built dist/').toBe(true);
      const imported = new Map<string, string>();
      for (const file of walk(dist).filter((path) => path.endsWith('.js'))) {
        const source = readFileSync(file, 'utf8');
        for (const match of source.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm)) {
          const specifier = match[1] ?? match[2] ?? match[3]!;
          if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
          const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
          imported.set(name, relative(dist, file));
        }
      }
      expect(imported.size).toBeGreaterThan(3);
      for (const [name, file] of imported) {
        expect(pkg.dependencies[name], `${file} imports ${name}, which is not in dependencies${pkg.devDependencies[name] ? ' (it is a devDependency)' : ''}`).toBeDefined();
      }
    });
  });
});

/** The context paths the COPY instructions (not --from) of a stage read. */
function copySources(stage: Stage): string[] {
  return all(stage, 'COPY')
    .filter((instruction) => !instruction.args.startsWith('--from'))
    .flatMap((instruction) => instruction.args.split(/\s+/).slice(0, -1).map((source) => source.replace(/\/$/, '')));
}

/**
 * Docker's .dockerignore rules: patterns are Go filepath.Match globs (plus `**`) relative to the
 * context root; a pattern that matches a directory excludes what is inside; `!` re-includes;
 * the last matching pattern decides.
 */
function dockerIgnore(patterns: readonly string[]): (path: string) => boolean {
  const rules = patterns.map((pattern) => {
    const exception = pattern.startsWith('!');
    const glob = (exception ? pattern.slice(1) : pattern).replace(/^\/+/, '').replace(/\/+$/, '');
    const regex = glob
      .split('/')
      .map((part) => (part === '**' ? '.*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
      .join('/')
      .replace(/\.\*\//g, '(?:.*/)?');
    return { exception, regex: new RegExp(`^${regex}$`) };
  });
  return (path) => {
    const parts = path.split('/');
    const prefixes = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (prefixes.some((prefix) => rule.regex.test(prefix))) excluded = !rule.exception;
    }
    return excluded;
  };
}

function copyContext(from: string, to: string, excluded: (path: string) => boolean): void {
  const path = relative(ROOT, from);
  if (excluded(path)) return;
  if (statSync(from).isDirectory()) {
    mkdirSync(to, { recursive: true });
    for (const entry of readdirSync(from)) copyContext(join(from, entry), join(to, entry), excluded);
    return;
  }
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { preserveTimestamps: true });
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]));
}
