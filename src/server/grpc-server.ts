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
import { checkRequestToInput } from '../protocol/check-request.js';
import { decisionToCheckResponse } from '../protocol/check-response.js';
import type { CheckRequest__Output } from '../protocol/generated/envoy/service/auth/v3/CheckRequest.js';
import type { CheckResponse } from '../protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { authorizationService } from '../protocol/proto.js';

export const AUTHORIZATION_SERVICE_NAME = 'envoy.service.auth.v3.Authorization';

export interface GrpcServerOptions {
  readonly listen: ListenAddress;
  readonly maxMessageBytes: number;
  readonly pipeline: Pipeline;
  readonly logger: Logger;
}

/** The grpc-js server options keycard runs with (the benchmark's bare handler uses them too). */
export function grpcServerOptions(maxMessageBytes: number): ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.keepalive_permit_without_calls': 1,
  };
}

export class GrpcServer {
  private readonly server: Server;
  private readonly health = new HealthImplementation({ '': 'NOT_SERVING', [AUTHORIZATION_SERVICE_NAME]: 'NOT_SERVING' });
  private boundPort = 0;

  constructor(private readonly options: GrpcServerOptions) {
    this.server = new Server(grpcServerOptions(options.maxMessageBytes));
    this.server.addService(authorizationService().service, { Check: this.check });
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

  private readonly check = (call: ServerUnaryCall<CheckRequest__Output, CheckResponse>, callback: sendUnaryData<CheckResponse>) => {
    void (async () => {
      const input = checkRequestToInput(call.request);
      const decision = await this.options.pipeline.decide(input);
      return decisionToCheckResponse(decision, input.headers);
    })().then(
      (response) => callback(null, response),
      (error: unknown) => {
        this.options.logger.error({ err: error }, 'check failed outside the pipeline; denying');
        callback(null, INTERNAL_ERROR_RESPONSE);
      },
    );
  };
}

/** The answer when even building a decision failed: a plain 403, no details. */
const INTERNAL_ERROR_RESPONSE: CheckResponse = {
  status: { code: 7, message: 'internal_error' },
  denied_response: {
    status: { code: 403 },
    headers: [{ header: { key: 'content-type', value: 'application/json' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
    body: JSON.stringify({ error: 'forbidden', reason: 'internal_error', message: 'the request could not be authorized' }),
  },
};
