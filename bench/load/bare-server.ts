// The baseline: a grpc-js server whose Check always allows, with keycard's proto loading and (by
// default) keycard's server options, so the difference to keycard is keycard's own work.
// Usage: node bare-server.js [--options keycard|defaults]; prints {"port":N} once listening.
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import type { CheckRequest__Output } from '../../src/protocol/generated/envoy/service/auth/v3/CheckRequest.js';
import type { CheckResponse } from '../../src/protocol/generated/envoy/service/auth/v3/CheckResponse.js';
import { authorizationService } from '../../src/protocol/proto.js';
import { grpcServerOptions } from '../../src/server/grpc-server.js';

const ALLOW: CheckResponse = { status: { code: 0, message: '' }, ok_response: {} };

const { values } = parseArgs({ options: { options: { type: 'string', default: 'keycard' } } });
const server = new Server(values.options === 'defaults' ? {} : grpcServerOptions(4 * 1024 * 1024));
server.addService(authorizationService().service, {
  Check: (_call: ServerUnaryCall<CheckRequest__Output, CheckResponse>, callback: sendUnaryData<CheckResponse>) => callback(null, ALLOW),
});
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.log(JSON.stringify({ port }));
});
const stop = () => server.tryShutdown(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
