// The protocol phases of one Check: the wire bytes → the handler's object, that object →
// AuthzInput, and a decision → CheckResponse → wire bytes. keycard's own codec (check-codec.ts)
// next to proto-loader's, which grpc-js uses by default (and the bare handler of the load benchmark).
import { afterAll, bench, describe } from 'vitest';
import { decodeCheckRequest, encodeCheckResponse, type KeycardCheckResponse } from '../src/protocol/check-codec.js';
import { checkRequestToInput } from '../src/protocol/check-request.js';
import { decisionToCheckResponse } from '../src/protocol/check-response.js';
import { authorizationService } from '../src/protocol/proto.js';
import { loadFixture } from './fixture.js';

const fixture = await loadFixture();
afterAll(() => fixture.scenario.workspace.remove());
const method = authorizationService().service.Check;
const protoLoaderSerialize = method.responseSerialize as (response: KeycardCheckResponse) => Buffer;
const message = fixture.scenario.frame.subarray(5);
const input = checkRequestToInput(fixture.decoded);
const allow = await fixture.keycard.pipeline.decide(input);
const deny = await fixture.keycard.pipeline.decide({ ...input, path: '/v1/legacy' });

describe('CheckRequest → input', () => {
  bench("bytes → CheckRequest: proto-loader's deserializer", () => {
    method.requestDeserialize(message);
  });
  bench("bytes → CheckRequest: keycard's decoder (protobufjs decode, no toObject)", () => {
    decodeCheckRequest(message);
  });
  bench('CheckRequest → AuthzInput', () => {
    checkRequestToInput(fixture.decoded);
  });
});

describe('response building', () => {
  bench('allow: Decision → CheckResponse', () => {
    decisionToCheckResponse(allow, input.headers);
  });
  bench("allow: Decision → CheckResponse → bytes, keycard's encoder", () => {
    encodeCheckResponse(decisionToCheckResponse(allow, input.headers));
  });
  bench("allow: Decision → CheckResponse → bytes, proto-loader's serializer", () => {
    protoLoaderSerialize(decisionToCheckResponse(allow, input.headers));
  });
  bench("deny (403, JSON body): Decision → CheckResponse → bytes, keycard's encoder", () => {
    encodeCheckResponse(decisionToCheckResponse(deny, input.headers));
  });
});
