// API keys and sessions in Redis: a hash per record (its fields: records.ts) and two indexes scored
// by the record's drop time, one of all records of the kind and one per subject (keys.ts). A write
// changes the record and its indexes and publishes the change in one Lua script (scripts.ts).
import { compareRecords, recordDropTime, type ApiKeyRecord, type SessionRecord, type StateChange } from '../store.js';
import { chunks } from './batch.js';
import { changeMessage } from './change-feed.js';
import type { StoreConnection } from './connection.js';
import { API_KEY_FIELDS, apiKeyFields, SESSION_FIELDS, sessionFields, toApiKey, toSession } from './records.js';
import { DELETE_RECORD, PUT_RECORD, runScript } from './scripts.js';

type StoredRecord = { readonly id: string; readonly subject: string; readonly createdAt: number; readonly expiresAt?: number };

/** Where one kind of record lives (keys.ts) and how it is written and read back (records.ts). */
interface RecordLayout<R extends StoredRecord> {
  readonly kind: 'apiKey' | 'session';
  record(id: string): string;
  readonly index: string;
  subjectIndex(subject: string): string;
  readonly fields: readonly string[];
  toFields(record: R): string[];
  parse(id: string, values: readonly (string | null)[] | undefined): R | undefined;
}

export function apiKeyRecords(connection: StoreConnection): CredentialRecords<ApiKeyRecord> {
  const { keys } = connection;
  const where = { record: (id: string) => keys.apiKey(id), index: keys.apiKeys, subjectIndex: (subject: string) => keys.subjectApiKeys(subject) };
  return new CredentialRecords(connection, { kind: 'apiKey', ...where, fields: API_KEY_FIELDS, toFields: apiKeyFields, parse: toApiKey });
}

export function sessionRecords(connection: StoreConnection): CredentialRecords<SessionRecord> {
  const { keys } = connection;
  const where = { record: (id: string) => keys.session(id), index: keys.sessions, subjectIndex: (subject: string) => keys.subjectSessions(subject) };
  return new CredentialRecords(connection, { kind: 'session', ...where, fields: SESSION_FIELDS, toFields: sessionFields, parse: toSession });
}

/** One kind of record; `operation` names the store operation in failures. */
export class CredentialRecords<R extends StoredRecord> {
  constructor(
    private readonly connection: StoreConnection,
    private readonly layout: RecordLayout<R>,
  ) {}

  async put(operation: string, record: R): Promise<void> {
    const { client, keys, origin } = this.connection;
    const { layout } = this;
    const change: StateChange = { kind: layout.kind, id: record.id };
    const fields = layout.toFields(record);
    const drop = recordDropTime(record.expiresAt);
    await this.connection.run(operation, () =>
      runScript(
        client,
        PUT_RECORD,
        [layout.record(record.id), layout.index, layout.subjectIndex(record.subject)],
        [record.id, drop === Infinity ? 'inf' : String(drop), keys.channel, changeMessage(origin, change), ...fields],
      ),
    );
    this.connection.emit(change);
  }

  async get(operation: string, id: string): Promise<R | undefined> {
    const { client } = this.connection;
    const values = await this.connection.run(operation, () => client.hmget(this.layout.record(id), ...this.layout.fields));
    return this.unlessDropped(this.layout.parse(id, values));
  }

  async delete(operation: string, id: string): Promise<boolean> {
    const { client, keys, origin } = this.connection;
    const { layout } = this;
    const change: StateChange = { kind: layout.kind, id };
    // The subject's index is named by the record's subject: read it first (a record's subject never
    // changes in practice; a stale index member is filtered out when listing and expires anyway).
    const [subject] = await this.connection.run(operation, () => client.hmget(layout.record(id), 'subject'));
    const scriptKeys = [layout.record(id), layout.index, ...(subject === null || subject === undefined ? [] : [layout.subjectIndex(subject)])];
    const deleted = await this.connection.run(operation, () => runScript(client, DELETE_RECORD, scriptKeys, [id, keys.channel, changeMessage(origin, change)]));
    if (deleted === 1) this.connection.emit(change);
    return deleted === 1;
  }

  async list(operation: string, subject: string | undefined): Promise<R[]> {
    const { client } = this.connection;
    const { layout } = this;
    const nowSeconds = this.connection.now() / 1000;
    const index = subject === undefined ? layout.index : layout.subjectIndex(subject);
    const ids = await this.connection.run(operation, () => client.zrangebyscore(index, `(${Math.floor(nowSeconds)}`, '+inf'));
    const out: R[] = [];
    for (const batch of chunks(ids)) {
      const values = await this.connection.run(operation, () => Promise.all(batch.map((id) => client.hmget(layout.record(id), ...layout.fields))));
      batch.forEach((id, position) => {
        const record = this.unlessDropped(layout.parse(id, values[position]));
        if (record !== undefined && (subject === undefined || record.subject === subject)) out.push(record);
      });
    }
    return out.sort(compareRecords);
  }

  /** A record past its drop time is gone, whether or not Redis has expired the key yet. */
  private unlessDropped(record: R | undefined): R | undefined {
    return record !== undefined && recordDropTime(record.expiresAt) > this.connection.now() / 1000 ? record : undefined;
  }
}
