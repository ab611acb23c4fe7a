// Reads the Dockerfile's instructions (continuation lines joined, comments dropped), stage by
// stage, so that tests can check what the image does without a Docker engine.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './k8s.js';

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

export function readDockerfile(file = join(ROOT, 'Dockerfile')): { args: Map<string, string>; stages: Stage[] } {
  const lines = readFileSync(file, 'utf8').split('\n');
  const instructions: Instruction[] = [];
  for (let index = 0; index < lines.length; index++) {
    const start = index;
    let text = lines[index]!;
    if (/^\s*(#|$)/.test(text)) continue;
    while (text.endsWith('\\') && index + 1 < lines.length) {
      index++;
      if (/^\s*#/.test(lines[index]!)) continue; // comment lines inside a continuation
      text = `${text.slice(0, -1).trimEnd()} ${lines[index]!.trim()}`;
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(text);
    if (match) instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: start + 1 });
  }
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image, as, name] = instruction.args.split(/\s+/);
      const from = image!.replace(/\$\{(\w+)\}/g, (_, arg: string) => args.get(arg) ?? '');
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [name, value = ''] = instruction.args.split('=');
      args.set(name!, value);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** The instructions of a stage with that keyword. */
export function all(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

/** An exec-form argument (`["node", "dist/cli.js"]`) as a list. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) throw new Error(`not an exec-form list: ${args}`);
  return parsed;
}

/** The ports of every EXPOSE in the stage. */
export function exposedPorts(stage: Stage): number[] {
  return all(stage, 'EXPOSE').flatMap((instruction) => instruction.args.split(/\s+/).map((port) => Number(port.replace(/\/tcp$/, ''))));
}
