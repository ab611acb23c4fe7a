// keycard's gRPC server, seen by a raw HTTP/2 client: the SETTINGS it announces and the
// connection window it opens are the tuned ones (grpc-js has no options for the windows, so this
// also catches a grpc-js upgrade that moves what http2-tuning.ts relies on).
import { connect, type ClientHttp2Session } from 'node:http2';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_TUNING, GrpcServer } from '../../src/server/grpc-server.js';
import { fixedIdentity, pipelineWith } from '../helpers/pipeline.js';
import { ANONYMOUS } from '../../src/authn/identity.js';

let server: GrpcServer;
let warnings = 0;
beforeAll(async () => {
  const logger = pino({ level: 'warn' }, { write: () => warnings++ });
  server = new GrpcServer({
    listen: { host: '127.0.0.1', port: 0 },
    maxMessageBytes: 1 << 20,
    pipeline: pipelineWith({ policies: () => undefined, authenticator: fixedIdentity(ANONYMOUS) }),
    logger,
  });
  await server.start();
});
afterAll(() => server.stop(1000));

async function settled(session: ClientHttp2Session): Promise<void> {
  await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
  // The connection window grows by a WINDOW_UPDATE that follows the SETTINGS frame.
  for (let i = 0; i < 50 && session.state.remoteWindowSize !== GRPC_TUNING.connectionWindowBytes; i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('gRPC server tuning on the wire', () => {
  it('announces the stream window and the stream limit, and opens the connection window', async () => {
    const session = connect(`http://127.0.0.1:${server.port}`);
    try {
      await settled(session);
      expect(session.remoteSettings.initialWindowSize).toBe(GRPC_TUNING.streamWindowBytes);
      expect(session.remoteSettings.maxConcurrentStreams).toBe(GRPC_TUNING.maxConcurrentStreams);
      expect(session.state.remoteWindowSize).toBe(GRPC_TUNING.connectionWindowBytes);
      expect(warnings).toBe(0);
    } finally {
      session.close();
    }
  });
});
