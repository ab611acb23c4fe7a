// Shared by the tracing tests: trace contexts as a proxy sends them, and keycard started with
// chosen OTEL_* variables.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { startKeycard, type KeycardProcess } from '../helpers/keycard-process.js';
import type { ReceivedSpan } from './otlp-receiver.js';

export interface ProxyTrace {
  readonly traceId: string;
  readonly spanId: string;
}

export function newTrace(): ProxyTrace {
  return { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
}

export function traceparent(trace: ProxyTrace, sampled = true): string {
  return `00-${trace.traceId}-${trace.spanId}-${sampled ? '01' : '00'}`;
}

/**
 * keycard (dist/cli.js serve) with exactly the OTEL_* variables in `otel` (every other OTEL_*
 * variable of this process is left out), so the machine's environment cannot switch tracing on.
 */
export async function startWithEnv(configFile: string, otel: Readonly<Record<string, string>>, extraArgs: string[] = []): Promise<KeycardProcess> {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
  Object.assign(process.env, otel);
  try {
    // spawn() copies the environment before startKeycard's first await.
    return startKeycard(configFile, extraArgs);
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

/** The one span named `name` among `spans`. */
export function only(spans: readonly ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.filter((span) => span.name === name);
  expect(found.map((span) => span.name), `exactly one ${name}`).toEqual([name]);
  return found[0]!;
}

export const PHASES = ['keycard.route', 'keycard.identity', 'keycard.state', 'keycard.authorize', 'keycard.respond'];

/** Every string a span carries: names, attribute keys and values, event names and attributes, status message. */
export function spanText(span: ReceivedSpan): string {
  return JSON.stringify([span.name, span.attributes, span.events, span.status, span.traceState]);
}

/** A whole decision has been exported: the check span and its respond phase. */
export function decisionExported(spans: readonly ReceivedSpan[]): boolean {
  return spans.some((span) => span.name === 'keycard.check') && spans.some((span) => span.name === 'keycard.respond');
}
