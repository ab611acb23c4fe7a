// The gRPC listener: envoy.service.auth.v3.Authorization/Check and grpc.health.v1.Health.
// Check always answers with a CheckResponse; an unexpected failure becomes a deny response, never
// a gRPC error status (Envoy could treat that as "keycard unavailable" and, with
// failure_mode_allow, let the request through).
import { Server, ServerCredentials, type ChannelOptions, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { ListenAddress } from '../config/listen-address.js';
import { formatListenAddress } from '../config/listen-address.js';
import { removeStaleSocket } from './listen.js';
import type { Logger } from '../log/logger.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { keycardAuthorizationService, type KeycardCheckResponse } from '../protocol/check-codec.js';
import { checkRequestToInput, type CheckRequestView } from '../protocol/check-request.js';
import { decisionToCheckResponse } from '../protocol/check-response.js';
import { setConnectionWindow, setStreamWindow } from './http2-tuning.js';
import type { DecisionTrace } from '../tracing/decision-trace.js';
import { arrivalMark, type Tracing } from '../tracing/tracer.js';

export const AUTHORIZATION_SERVICE_NAME = 'envoy.service.auth.v3.Authorization';

export interface GrpcServerOptions {
  readonly listen: ListenAddress;
  readonly maxMessageBytes: number;
  readonly pipeline: Pipeline;
  readonly logger: Logger;
  /** Settings `tracing`; undefined when off. */
  readonly tracing?: Tracing;
}

/**
 * Tuned for Envoy's pattern: a few long-lived HTTP/2 connections per sidecar, many concurrent
 * Checks on each (see README "Performance"). The benchmark's bare handler uses the same options.
 */
export const GRPC_TUNING = {
  /** Receive windows, per stream and per connection (HTTP/2's default is 64 KiB for both). */
  streamWindowBytes: 1 << 20,
  connectionWindowBytes: 16 << 20,
  /** SETTINGS_MAX_CONCURRENT_STREAMS: past it Envoy opens another connection (spread over the workers). */
  maxConcurrentStreams: 1000,
  /** Ping an idle connection after a minute; drop it if the ping is unanswered for 20 s (a vanished peer). */
  keepaliveMs: 60_000,
  keepaliveTimeoutMs: 20_000,
} as const;

/** The grpc-js server options keycard runs with (the benchmark's bare handler uses them too). */
export function grpcServerOptions(maxMessageBytes: number): ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_concurrent_streams': GRPC_TUNING.maxConcurrentStreams,
    'grpc.keepalive_time_ms': GRPC_TUNING.keepaliveMs,
    'grpc.keepalive_timeout_ms': GRPC_TUNING.keepaliveTimeoutMs,
    'grpc.keepalive_permit_without_calls': 1,
    // channelz (grpc-js's per-call introspection) costs work on every call; keycard does not serve it.
    'grpc.enable_channelz': 0,
  };
}

/**
 * A grpc-js server with keycard's options and HTTP/2 windows. `onTuningUnavailable` is told when
 * grpc-js no longer lets the windows be set (the server then runs with HTTP/2's defaults).
 */
export function tunedGrpcServer(maxMessageBytes: number, onTuningUnavailable: () => void): { server: Server; afterBind: () => void } {
  const server = new Server(grpcServerOptions(maxMessageBytes));
  if (!setStreamWindow(server, GRPC_TUNING.streamWindowBytes)) onTuningUnavailable();
  return {
    server,
    afterBind: () => {
      if (!setConnectionWindow(server, GRPC_TUNING.connectionWindowBytes)) onTuningUnavailable();
    },
  };
}

export class GrpcServer {
  private readonly server: Server;
  private readonly afterBind: () => void;
  private readonly health = new HealthImplementation({ '': 'NOT_SERVING', [AUTHORIZATION_SERVICE_NAME]: 'NOT_SERVING' });
  private boundPort = 0;

  constructor(private readonly options: GrpcServerOptions) {
    const tuned = tunedGrpcServer(options.maxMessageBytes, () => options.logger.warn('grpc-js does not expose its HTTP/2 settings: running with the default flow-control windows'));
    this.server = tuned.server;
    this.afterBind = tuned.afterBind;
    this.server.addService(keycardAuthorizationService(), { Check: this.check });
    this.health.addToServer(this.server);
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<number> {
    const address = formatListenAddress(this.options.listen);
    if (this.options.listen.socket !== undefined) removeStaleSocket(this.options.listen.socket);
    this.boundPort = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
    );
    this.afterBind();
    return this.boundPort;
  }

  setServing(status: ServingStatus): void {
    this.health.setStatus('', status);
    this.health.setStatus(AUTHORIZATION_SERVICE_NAME, status);
  }

  /** Stops accepting calls and waits for in-flight Checks, up to `graceMs`; then cuts the rest. */
  async stop(graceMs: number): Promise<void> {
    this.setServing('NOT_SERVING');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private readonly check = (call: ServerUnaryCall<CheckRequestView, KeycardCheckResponse>, callback: sendUnaryData<KeycardCheckResponse>) => {
    const { tracing } = this.options;
    const receivedAt = arrivalMark(tracing);
    let trace: DecisionTrace | undefined;
    const fail = (error: unknown) => {
      this.options.logger.error({ err: error }, 'check failed outside the pipeline; denying');
      callback(null, INTERNAL_ERROR_RESPONSE);
      trace?.end({ error });
    };
    try {
      const input = checkRequestToInput(call.request);
      trace = tracing?.begin(input, { transport: 'grpc', metadata: call.metadata }, receivedAt);
      this.options.pipeline.decide(input, trace).then((decision) => {
        trace?.responding(decision);
        let response: KeycardCheckResponse;
        try {
          response = decisionToCheckResponse(decision, input.headers);
        } catch (error) {
          return fail(error);
        }
        callback(null, response);
        trace?.end();
      }, fail);
    } catch (error) {
      fail(error);
    }
  };
}

/** The answer when even building a decision failed: a plain 403, no details. */
const INTERNAL_ERROR_RESPONSE: KeycardCheckResponse = {
  status: { code: 7, message: 'internal_error' },
  denied_response: {
    status: { code: 403 },
    headers: [{ header: { key: 'content-type', value: 'application/json' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
    body: JSON.stringify({ error: 'forbidden', reason: 'internal_error', message: 'the request could not be authorized' }),
  },
};
