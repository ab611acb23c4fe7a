// Loads the Envoy/gRPC API descriptor set built by buf (`make build`) into @grpc/proto-loader.
// protobufjs's descriptor import turns `map<K,V>` fields into repeated `*Entry` messages, which
// neither matches the generated types nor the objects Envoy's maps should be, so map fields are
// restored before proto-loader builds the package definition. Field names stay snake_case
// (keepCase), like the generated types.
import { readFileSync } from 'node:fs';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { fromJSON, type PackageDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import type { ProtoGrpcType as ExternalAuthTypes } from './generated/external_auth.js';
import type { ProtoGrpcType as HealthTypes } from './generated/health.js';

export const DESCRIPTOR_SET = new URL('./generated/keycard.binpb', import.meta.url);

export const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

type LoadedProtos = {
  definition: PackageDefinition;
  grpc: ExternalAuthTypes & HealthTypes;
  /** The protobufjs types themselves (map fields restored), for keycard's own Check codec. */
  root: protobuf.Root;
};

let cached: LoadedProtos | undefined;

export function envoyProtos(): LoadedProtos {
  if (!cached) {
    const set = descriptor.FileDescriptorSet.decode(readFileSync(DESCRIPTOR_SET));
    const root = (protobuf.Root as unknown as RootFromDescriptor).fromDescriptor(set);
    restoreMapFields(root);
    const definition = fromJSON(root.toJSON(), LOADER_OPTIONS);
    cached = { definition, grpc: loadPackageDefinition(definition) as unknown as ExternalAuthTypes & HealthTypes, root };
  }
  return cached;
}

/** Client constructor and service definition of envoy.service.auth.v3.Authorization. */
export function authorizationService() {
  return envoyProtos().grpc.envoy.service.auth.v3.Authorization;
}

/** Client constructor of grpc.health.v1.Health (the server side comes from grpc-health-check). */
export function healthService() {
  return envoyProtos().grpc.grpc.health.v1.Health;
}

/** Added to Root by protobufjs/ext/descriptor at import time; its .d.ts does not declare it. */
interface RootFromDescriptor {
  fromDescriptor(descriptor: protobuf.Message): protobuf.Root;
}

function restoreMapFields(namespace: protobuf.NamespaceBase): void {
  for (const nested of namespace.nestedArray) {
    if (nested instanceof protobuf.Type) {
      let changed = false;
      for (const field of [...nested.fieldsArray]) {
        const entry = field.repeated ? nested.nested?.[field.type.split('.').pop() ?? ''] : undefined;
        if (!(entry instanceof protobuf.Type) || entry.options?.map_entry !== true) continue;
        const key = entry.fields.key!;
        const value = entry.fields.value!;
        nested.remove(field);
        nested.add(new protobuf.MapField(field.name, field.id, key.type, value.type));
        changed = true;
      }
      // The message constructor was generated when the descriptor was resolved, with the map as a
      // repeated field (an array): generate it again, so decoded messages hold maps as objects.
      if (changed) nested.ctor = protobuf.Type.generateConstructor(nested)() as typeof nested.ctor;
    }
    if (nested instanceof protobuf.Namespace) restoreMapFields(nested);
  }
}
