// What the cluster primary and its workers say to each other over the IPC channel: a worker
// announces that it listens; the primary asks a worker for its readiness or its metrics, or to
// decide a hypothetical request for the decision explorer; with the explorer on, workers send
// their decision records in batches.
import type { ExplorerRecord } from '../explorer/record.js';
import type { TryAnswer, TryInput } from '../explorer/try-request.js';
import type { Readiness } from '../server/admin-server.js';

/** Worker → primary, once after start: the ports it listens on (the same in every worker). */
export interface ListeningMessage {
  readonly type: 'keycard:listening';
  readonly grpcPort: number;
  readonly httpPort?: number;
  /** The AuthZEN listener's port, when `authzen` is configured. */
  readonly authzenPort?: number;
}

export type Question = 'readiness' | 'metrics' | 'try';

/** Primary → worker. */
export interface QuestionMessage {
  readonly type: 'keycard:question';
  readonly id: number;
  readonly question: Question;
  /** With question `try`: the request to decide and explain. */
  readonly tryInput?: TryInput;
}

/** Worker → primary: the answer to the question with the same id. */
export interface AnswerMessage {
  readonly type: 'keycard:answer';
  readonly id: number;
  readonly readiness?: Readiness;
  /** prom-client's Registry.getMetricsAsJSON() of the worker. */
  readonly metrics?: object[];
  readonly tried?: TryAnswer;
}

/**
 * Records per explorer message: the worker cuts its batches to this, and the primary ignores a
 * larger one (not a worker's doing), so one message never holds up the primary for long.
 */
export const EXPLORER_RECORDS_PER_MESSAGE = 100;

/** Worker → primary, with the explorer on: decisions since the last batch, oldest first. */
export interface ExplorerRecordsMessage {
  readonly type: 'keycard:explorer-records';
  readonly records: readonly ExplorerRecord[];
}

function hasType(message: unknown, type: string): boolean {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

export const isListening = (message: unknown): message is ListeningMessage => hasType(message, 'keycard:listening');
export const isQuestion = (message: unknown): message is QuestionMessage => hasType(message, 'keycard:question');
export const isAnswer = (message: unknown): message is AnswerMessage => hasType(message, 'keycard:answer');
export const isExplorerRecords = (message: unknown): message is ExplorerRecordsMessage =>
  hasType(message, 'keycard:explorer-records') && Array.isArray((message as { records?: unknown }).records);
