// keycard's own wire codec for Check, used by the gRPC server in place of proto-loader's: it reads
// a CheckRequest without converting the decoded message into a second, defaults-filled object
// tree, and writes the few fields of a CheckResponse that keycard sets straight into one buffer
// (a third of proto-loader's cost). Same wire format: test/protocol/check-codec.test.ts decodes
// both ways and compares, and the integration tests check it with Python's grpcio.
import type { ServerMethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import type { DenyStatus } from '../errors.js';
import type { CheckRequestView } from './check-request.js';
import { authorizationService, envoyProtos } from './proto.js';

/** A header keycard sets (allow: on the upstream request; deny: on the answer). */
export interface HeaderOption {
  readonly header: { readonly key: string; readonly value: string };
  readonly append_action: 'OVERWRITE_IF_EXISTS_OR_ADD';
}

/** The CheckResponse fields keycard uses (envoy.service.auth.v3.CheckResponse, snake_case). */
export interface KeycardCheckResponse {
  /** A google.rpc.Code (0 to 16). */
  readonly status: { readonly code: number; readonly message: string };
  readonly ok_response?: { readonly headers: readonly HeaderOption[]; readonly headers_to_remove: readonly string[] };
  readonly denied_response?: { readonly status: { readonly code: DenyStatus }; readonly headers: readonly HeaderOption[]; readonly body: string };
  /** google.protobuf.Struct with string values only. */
  readonly dynamic_metadata?: { readonly fields: Readonly<Record<string, { readonly string_value: string }>> };
}

/** HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD */
const OVERWRITE_IF_EXISTS_OR_ADD = 2;

/**
 * Where a response is written, in two passes: Measure learns every length-delimited field's size,
 * Write then puts the bytes into a buffer of exactly the total size. Every field number keycard
 * writes is below 16, so each field key ((number << 3) | wire type) is one byte.
 */
interface Sink {
  varint(field: number, value: number): void;
  string(field: number, text: string): void;
  message(field: number, body: () => void): void;
}

function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

class Measure implements Sink {
  /** Sizes of the length-delimited fields (strings and messages), in the order Write meets them. */
  readonly sizes: number[] = [];
  total = 0;

  varint(_field: number, value: number): void {
    this.total += 1 + varintSize(value);
  }

  string(_field: number, text: string): void {
    const size = Buffer.byteLength(text, 'utf8');
    this.sizes.push(size);
    this.total += 1 + varintSize(size) + size;
  }

  message(_field: number, body: () => void): void {
    const slot = this.sizes.push(0) - 1;
    const before = this.total;
    body();
    const size = this.total - before;
    this.sizes[slot] = size;
    this.total += 1 + varintSize(size);
  }
}

class Write implements Sink {
  private offset = 0;
  private next = 0;

  constructor(
    readonly buffer: Buffer,
    private readonly sizes: readonly number[],
  ) {}

  varint(field: number, value: number): void {
    this.buffer[this.offset++] = field << 3;
    this.raw(value);
  }

  string(field: number, text: string): void {
    // Native: a String.prototype.charCodeAt loop would be faster, but only until some module
    // subclasses String (ioredis does), which makes charCodeAt several times slower process-wide.
    const size = this.open(field);
    this.offset += this.buffer.write(text, this.offset, size, 'utf8');
  }

  message(field: number, body: () => void): void {
    this.open(field);
    body();
  }

  private open(field: number): number {
    const size = this.sizes[this.next++]!;
    this.buffer[this.offset++] = (field << 3) | 2;
    this.raw(size);
    return size;
  }

  private raw(value: number): void {
    while (value >= 0x80) {
      this.buffer[this.offset++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buffer[this.offset++] = value;
  }
}

function headerOptions(sink: Sink, field: number, headers: readonly HeaderOption[]): void {
  for (const { header } of headers) {
    sink.message(field, () => {
      // HeaderValueOption { header = 1: HeaderValue { key = 1; value = 2 }; append_action = 3 }
      sink.message(1, () => {
        sink.string(1, header.key);
        sink.string(2, header.value);
      });
      sink.varint(3, OVERWRITE_IF_EXISTS_OR_ADD);
    });
  }
}

/** Proto3: fields at their default (0, '') are left out, as any protobuf encoder may. */
function checkResponse(sink: Sink, response: KeycardCheckResponse): void {
  const { status, ok_response: ok, denied_response: denied, dynamic_metadata: metadata } = response;
  sink.message(1, () => {
    // status: google.rpc.Status { code = 1; message = 2 }
    if (status.code !== 0) sink.varint(1, status.code);
    if (status.message !== '') sink.string(2, status.message);
  });
  if (denied) {
    sink.message(2, () => {
      // denied_response: DeniedHttpResponse { status = 1: HttpStatus { code = 1 }; headers = 2; body = 3 }
      sink.message(1, () => sink.varint(1, denied.status.code));
      headerOptions(sink, 2, denied.headers);
      if (denied.body !== '') sink.string(3, denied.body);
    });
  }
  if (ok) {
    sink.message(3, () => {
      // ok_response: OkHttpResponse { headers = 2; headers_to_remove = 5 }
      headerOptions(sink, 2, ok.headers);
      for (const name of ok.headers_to_remove) sink.string(5, name);
    });
  }
  if (metadata) {
    sink.message(4, () => {
      // dynamic_metadata: Struct { map<string, Value> fields = 1 }: entries { key = 1; value = 2 }, Value { string_value = 3 }
      for (const name in metadata.fields) {
        const value = metadata.fields[name]!.string_value;
        sink.message(1, () => {
          sink.string(1, name);
          sink.message(2, () => sink.string(3, value));
        });
      }
    });
  }
}

export function encodeCheckResponse(response: KeycardCheckResponse): Buffer {
  const measure = new Measure();
  checkResponse(measure, response);
  const write = new Write(Buffer.allocUnsafe(measure.total), measure.sizes);
  checkResponse(write, response);
  return write.buffer;
}

let requestType: protobuf.Type | undefined;

/** The decoded protobufjs message: unset fields read as their defaults, maps as plain objects. */
export function decodeCheckRequest(bytes: Buffer): CheckRequestView {
  requestType ??= envoyProtos().root.lookupType('envoy.service.auth.v3.CheckRequest');
  return requestType.decode(bytes) as unknown as CheckRequestView;
}

/** envoy.service.auth.v3.Authorization with keycard's Check codec. */
export function keycardAuthorizationService(): ServiceDefinition {
  const standard = authorizationService().service;
  const check: ServerMethodDefinition<CheckRequestView, KeycardCheckResponse> = {
    ...standard.Check,
    requestDeserialize: decodeCheckRequest,
    responseSerialize: encodeCheckResponse,
  };
  // The client half (requestSerialize, responseDeserialize) stays proto-loader's.
  return { ...standard, Check: { ...standard.Check, ...check } } as ServiceDefinition;
}
