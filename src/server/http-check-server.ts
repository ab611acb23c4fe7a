// The HTTP check listener: the same decisions as gRPC Check, for proxies that authorize with an
// HTTP sub-request. Any failure still answers (403), never leaves the proxy waiting.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ListenAddress } from '../config/listen-address.js';
import { listenOn } from './listen.js';
import type { Logger } from '../log/logger.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { decisionToHttpAnswer, subRequestToInput } from '../protocol/http-check.js';
import type { DecisionTrace } from '../tracing/decision-trace.js';
import { arrivalMark, type Tracing } from '../tracing/tracer.js';

export interface HttpCheckServerOptions {
  readonly listen: ListenAddress;
  readonly pipeline: Pipeline;
  readonly logger: Logger;
  /** Settings `tracing`; undefined when off. */
  readonly tracing?: Tracing;
}

const FAILURE_BODY = JSON.stringify({ error: 'forbidden', reason: 'internal_error', message: 'the request could not be authorized' });

export class HttpCheckServer {
  private readonly server: Server;

  constructor(private readonly options: HttpCheckServerOptions) {
    // Sub-requests carry no body worth reading; headers are bounded by Node's maxHeaderSize.
    this.server = createServer({ maxHeaderSize: 64 * 1024, requestTimeout: 10_000 }, (request, response) => void this.handle(request, response));
    this.server.keepAliveTimeout = 60_000;
  }

  async start(): Promise<number> {
    return listenOn(this.server, this.options.listen);
  }

  /** Stops accepting and lets in-flight checks finish. */
  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await closed;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    request.resume(); // drain any body
    const { tracing } = this.options;
    const receivedAt = arrivalMark(tracing);
    let trace: DecisionTrace | undefined;
    try {
      const input = subRequestToInput({
        method: request.method ?? 'GET',
        url: request.url ?? '/',
        headers: request.headers,
        remoteAddress: request.socket.remoteAddress,
      });
      trace = tracing?.begin(input, { transport: 'http' }, receivedAt);
      const decision = await this.options.pipeline.decide(input, trace);
      trace?.responding(decision);
      const answer = decisionToHttpAnswer(decision, input.headers);
      response.writeHead(answer.status, answer.headers);
      response.end(answer.body);
      trace?.end({ httpStatus: answer.status });
    } catch (error) {
      this.options.logger.error({ err: error }, 'http check failed outside the pipeline; denying');
      if (!response.headersSent) response.writeHead(403, { 'content-type': 'application/json' });
      response.end(FAILURE_BODY);
      trace?.end({ httpStatus: 403, error });
    }
  }
}
