// A cluster worker: a whole keycard (gRPC and HTTP check listeners shared with the other workers
// through the primary; no admin port) that tells the primary when it listens, answers its
// questions (readiness, metrics, a hypothetical request for the explorer) and, with the decision
// explorer on, sends it the records of its decisions in batches.
import type { Keycard } from '../app.js';
import type { TryAnswer } from '../explorer/try-request.js';
import { EXPLORER_RECORDS_PER_MESSAGE, isQuestion, type AnswerMessage, type ExplorerRecordsMessage, type ListeningMessage } from './messages.js';

/** Explorer records go to the primary this often: a page refreshes about as often. */
const EXPLORER_SEND_MS = 200;

/** `sent` is called once the message has left (or could not be sent), so that batches never pile up in the channel. */
function send(message: ListeningMessage | AnswerMessage | ExplorerRecordsMessage, sent?: () => void): void {
  // The channel is gone when the primary has exited; the worker then stops on 'disconnect'.
  if (process.connected && process.send) process.send(message, undefined, undefined, sent);
  else sent?.();
}

/**
 * Answers the primary's questions from now on (before start, so none is ever left unanswered),
 * and starts sending explorer records when the explorer is on.
 */
export function answerPrimary(keycard: Keycard): void {
  process.on('message', (message: unknown) => {
    if (!isQuestion(message)) return;
    const answer = (fields: Omit<AnswerMessage, 'type' | 'id'>) => send({ type: 'keycard:answer', id: message.id, ...fields });
    switch (message.question) {
      case 'readiness':
        return answer({ readiness: keycard.readiness() });
      case 'metrics':
        keycard.metrics.registry.getMetricsAsJSON().then(
          (metrics) => answer({ metrics }),
          () => answer({ metrics: [] }),
        );
        return;
      case 'try': {
        const { explorer } = keycard;
        const tried: Promise<TryAnswer> =
          explorer && message.tryInput ? explorer.tryRequest(message.tryInput) : Promise.resolve({ ok: false, status: 503, error: 'the explorer is off in this worker' });
        tried.then(
          (result) => answer({ tried: result }),
          (error: unknown) => answer({ tried: { ok: false, status: 503, error: `the worker could not decide: ${(error as Error)?.message ?? String(error)}` } }),
        );
        return;
      }
    }
  });
  forwardExplorerRecords(keycard);
}

/**
 * Every EXPLORER_SEND_MS, whatever the outbox holds (at most the ring's capacity: older records are
 * dropped there) goes to the primary. While a previous send is still in the channel nothing more
 * is sent, so a slow primary costs the worker at most one outbox and one send of memory.
 */
function forwardExplorerRecords(keycard: Keycard): void {
  const outbox = keycard.explorer?.outbox;
  if (!outbox || !process.send) return;
  let inFlight = 0;
  const timer = setInterval(() => {
    if (inFlight > 0 || outbox.size === 0 || !process.connected) return;
    const records = outbox.take(outbox.capacity);
    for (let i = 0; i < records.length; i += EXPLORER_RECORDS_PER_MESSAGE) {
      inFlight++;
      send({ type: 'keycard:explorer-records', records: records.slice(i, i + EXPLORER_RECORDS_PER_MESSAGE) }, () => inFlight--);
    }
  }, EXPLORER_SEND_MS);
  timer.unref();
}

export function announceListening(grpcPort: number, httpPort: number | undefined, authzenPort?: number): void {
  send({ type: 'keycard:listening', grpcPort, ...(httpPort !== undefined && { httpPort }), ...(authzenPort !== undefined && { authzenPort }) });
}
