// What `keycard apikeys` and `keycard sessions` print. A new key or cookie value appears here once
// (and nowhere else: not in the audit log, not in the store); listings never show a hash.
import type { ApiKeyRecord, SessionRecord } from '../../state/store.js';
import { apiKeyTarget, type CreatedApiKey } from './apikeys.js';
import type { CredentialCommandSettings } from './context.js';
import type { CommandOutput } from './render.js';
import { iso } from './revocations.js';
import { sessionEnd, sessionTarget, type CreatedSession } from './sessions.js';

export function createdApiKeyOutput(created: CreatedApiKey): CommandOutput {
  const { action, target, store, actor, changed } = created;
  return {
    code: 0,
    text: `${created.message}\nkey: ${created.key}\nThe key is shown only this once: keycard keeps only a hash of it.`,
    json: { action, target, store, actor, changed, id: created.id, key: created.key },
  };
}

export function createdSessionOutput(created: CreatedSession): CommandOutput {
  const { action, target, store, actor, changed } = created;
  return {
    code: 0,
    text: `${created.message}\ncookie value: ${created.value}\nThe cookie value is shown only this once: keycard keeps only its SHA-256 (the session id).`,
    json: { action, target, store, actor, changed, id: created.id, cookie_value: created.value },
  };
}

export function apiKeysOutput(records: readonly ApiKeyRecord[], nowMs: number): CommandOutput {
  const expired = (record: ApiKeyRecord) => record.expiresAt !== undefined && record.expiresAt * 1000 <= nowMs;
  const rows = records.map((record) => [
    record.id,
    record.subject,
    record.name ?? '-',
    record.scopes.length === 0 ? '(no scopes)' : record.scopes.join(' '),
    `created ${iso(record.createdAt)}`,
    record.expiresAt === undefined ? 'never expires' : `${expired(record) ? 'expired' : 'expires'} ${iso(record.expiresAt)}`,
  ]);
  return {
    code: 0,
    text: rows.length === 0 ? 'no API keys' : table(rows),
    json: { apiKeys: records.map((record) => ({ ...apiKeyTarget(record), scopes: [...record.scopes], expired: expired(record) })) },
  };
}

export function sessionsOutput(records: readonly SessionRecord[], settings: CredentialCommandSettings['sessions'], nowMs: number): CommandOutput {
  const ended = (record: SessionRecord) => sessionEnd(record, settings) * 1000 <= nowMs;
  const rows = records.map((record) => [
    record.id,
    record.subject,
    `created ${iso(record.createdAt)}`,
    `last seen ${iso(record.lastSeenAt)}`,
    `${ended(record) ? 'ended' : 'ends'} ${iso(sessionEnd(record, settings))}`,
  ]);
  return {
    code: 0,
    text: rows.length === 0 ? 'no sessions' : table(rows),
    json: { sessions: records.map((record) => ({ ...sessionTarget(record, settings), ended: ended(record) })) },
  };
}

/** Columns padded to their widest cell; trailing spaces trimmed. */
function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ').trimEnd()).join('\n');
}
