// Writes the GitHub-scale policy set into build/github/: the patched API description, the policy
// (see model.ts), the seed and the settings. Run by `make bench-github`.
// Usage: node build/bench/bench/github/generate.js [--document FILE] [--out DIR]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { asObject, operationsOf, patchDocument } from './document.js';
import { layout, OCTOKIT_DOCUMENT, type GenerationNotes } from './layout.js';
import { buildModel } from './model.js';
import { policyYaml, seedYaml, settingsYaml } from './policy-files.js';

const { values } = parseArgs({ options: { document: { type: 'string' }, out: { type: 'string' } } });
const source = values.document ?? OCTOKIT_DOCUMENT;
const files = layout(values.out);

const original = readFileSync(source, 'utf8');
const parsed = JSON.parse(original) as Record<string, unknown>;
const sourcePaths = Object.keys(asObject(parsed.paths) ?? {}).length;
const sourceOperations = Object.values(asObject(parsed.paths) ?? {}).reduce((sum: number, item) => sum + operationsOf(asObject(item) ?? {}).length, 0);
const { document, dropped, renamed } = patchDocument(parsed);
const model = buildModel(document);
const info = (document.info ?? {}) as { title?: unknown; version?: unknown };

for (const file of [files.document, files.policy, files.seed]) mkdirSync(dirname(file), { recursive: true });
// Written as the package writes it (2-space indented): the benchmark parses a document of the real size.
const text = `${JSON.stringify(document, null, 2)}\n`;
writeFileSync(files.document, text);
writeFileSync(files.policy, policyYaml(model, relative(files.policies, files.document), `@octokit/openapi ${String(info.version)} (${String(info.title)})`));
writeFileSync(files.seed, seedYaml(model));
writeFileSync(files.settings, settingsYaml());
writeFileSync(files.model, JSON.stringify(model));
const notes: GenerationNotes = {
  source: `@octokit/openapi ${String(info.version)} (${String(info.title)})`,
  sourceOperations,
  sourcePaths,
  sourceBytes: Buffer.byteLength(original),
  documentBytes: Buffer.byteLength(text),
  renamed: [...renamed],
  dropped,
};
writeFileSync(files.notes, JSON.stringify(notes));

const rules = model.operations.length + model.maintain.length + 2;
console.log(`generated ${relative(process.cwd(), files.dir)}: ${model.operations.length} operations, ${rules} rules, ${model.maintain.length} tags`);
for (const [from, to] of renamed) console.log(`  renamed path parameter {${from}} to {${to}} (keycard binds [A-Za-z_][A-Za-z0-9_]* names)`);
for (const entry of dropped) console.log(`  left out ${entry.operationId} (${entry.path}): ${entry.why}`);
