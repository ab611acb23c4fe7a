// A cluster worker: a whole keycard (gRPC and HTTP check listeners shared with the other workers
// through the primary; no admin port) that tells the primary when it listens and answers its
// questions about readiness and metrics.
import type { Keycard } from '../app.js';
import { isQuestion, type AnswerMessage, type ListeningMessage } from './messages.js';

function send(message: ListeningMessage | AnswerMessage): void {
  // The channel is gone when the primary has exited; the worker then stops on 'disconnect'.
  if (process.connected) process.send?.(message);
}

/** Answers the primary's questions from now on (before start, so none is ever left unanswered). */
export function answerPrimary(keycard: Keycard): void {
  process.on('message', (message: unknown) => {
    if (!isQuestion(message)) return;
    if (message.question === 'readiness') {
      send({ type: 'keycard:answer', id: message.id, readiness: keycard.readiness() });
      return;
    }
    keycard.metrics.registry.getMetricsAsJSON().then(
      (metrics) => send({ type: 'keycard:answer', id: message.id, metrics }),
      () => send({ type: 'keycard:answer', id: message.id, metrics: [] }),
    );
  });
}

export function announceListening(grpcPort: number, httpPort: number | undefined): void {
  send({ type: 'keycard:listening', grpcPort, ...(httpPort !== undefined && { httpPort }) });
}
