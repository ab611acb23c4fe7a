// What the cluster primary and its workers say to each other over the IPC channel: a worker
// announces that it listens; the primary asks a worker for its readiness or its metrics.
import type { Readiness } from '../server/admin-server.js';

/** Worker → primary, once after start: the ports it listens on (the same in every worker). */
export interface ListeningMessage {
  readonly type: 'keycard:listening';
  readonly grpcPort: number;
  readonly httpPort?: number;
}

export type Question = 'readiness' | 'metrics';

/** Primary → worker. */
export interface QuestionMessage {
  readonly type: 'keycard:question';
  readonly id: number;
  readonly question: Question;
}

/** Worker → primary: the answer to the question with the same id. */
export interface AnswerMessage {
  readonly type: 'keycard:answer';
  readonly id: number;
  readonly readiness?: Readiness;
  /** prom-client's Registry.getMetricsAsJSON() of the worker. */
  readonly metrics?: object[];
}

function hasType(message: unknown, type: string): boolean {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

export const isListening = (message: unknown): message is ListeningMessage => hasType(message, 'keycard:listening');
export const isQuestion = (message: unknown): message is QuestionMessage => hasType(message, 'keycard:question');
export const isAnswer = (message: unknown): message is AnswerMessage => hasType(message, 'keycard:answer');
