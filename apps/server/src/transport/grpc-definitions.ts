import { fromBinary, toBinary, type DescFile, type DescService, type Message } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type { ReflectionService } from '@grpc/reflection';
import { BadRequestSchema, file_grpc_health_v1_health } from '@tally/contracts';

/**
 * grpc-js speaks in service definitions (paths and byte codecs) and reflection in serialized
 * FileDescriptorProtos; both are derived here from the protobuf-es descriptors, so the
 * generated contracts stay the only source of truth (no .proto loading at run time).
 */

/**
 * The grpc-js definition of a service: `/tally.v1.LedgerService/CreateLedger`, messages
 * encoded with `toBinary` / decoded with `fromBinary`. Clients (tests, tools) use it as is; the
 * server swaps in `rawRequestBytes` so it can answer a malformed body INVALID_ARGUMENT.
 */
export function grpcServiceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<Message, Message>> = {};
  for (const method of service.methods) {
    definition[method.name] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: (message) => Buffer.from(toBinary(method.input, message)),
      requestDeserialize: (bytes) => fromBinary(method.input, bytes),
      responseSerialize: (message) => Buffer.from(toBinary(method.output, message)),
      responseDeserialize: (bytes) => fromBinary(method.output, bytes),
      originalName: method.localName,
    };
  }
  return definition;
}

/** Leaves request decoding to the handler: grpc-js would answer INTERNAL to bytes it cannot decode. */
export function rawRequestBytes(bytes: Buffer): Buffer {
  return bytes;
}

type ReflectionPackage = ConstructorParameters<typeof ReflectionService>[0];

/**
 * What `@grpc/reflection` reads: serialized FileDescriptorProtos, indexed by the symbols they
 * declare. Each service's file comes with all of its transitive imports (google/protobuf/*,
 * google/rpc/*); so do the error detail messages (google/rpc/error_details.proto), which no
 * service imports but clients must resolve to show an error's details; and grpc.health.v1.
 */
export function reflectionPackage(services: readonly DescService[]): ReflectionPackage {
  const files = new Map<string, DescFile>();
  const visit = (file: DescFile): void => {
    if (files.has(file.name)) return;
    files.set(file.name, file);
    file.dependencies.forEach(visit);
  };
  services.forEach((service) => visit(service.file));
  visit(BadRequestSchema.file);
  visit(file_grpc_health_v1_health);
  const fileDescriptorProtos = [...files.values()].map((file) =>
    Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)),
  );
  // Only `fileDescriptorProtos` is read; the cast stands in for proto-loader's richer type.
  return { tally: { fileDescriptorProtos } } as unknown as ReflectionPackage;
}
