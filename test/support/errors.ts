import { createRegistry, fromBinary } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ConnectError } from '@connectrpc/connect';
import type * as grpc from '@grpc/grpc-js';
import {
  BadRequestSchema,
  ErrorInfoSchema,
  ResourceInfoSchema,
  StatusSchema,
  type BadRequest,
  type ErrorInfo,
  type ResourceInfo,
} from '@tally/contracts';

/** The error details a client sees, decoded the way grpcurl and Connect clients decode them. */
export interface SeenDetails {
  readonly violations: Array<{ field: string; description: string }>;
  readonly errorInfo?: ErrorInfo;
  readonly resourceInfo?: ResourceInfo;
}

const registry = createRegistry(BadRequestSchema, ErrorInfoSchema, ResourceInfoSchema);

/** From a grpc-js error: the `grpc-status-details-bin` trailer (google.rpc.Status). */
export function grpcDetails(error: grpc.ServiceError): SeenDetails {
  const [bin] = error.metadata.get('grpc-status-details-bin');
  if (!bin) return { violations: [] };
  const status = fromBinary(StatusSchema, bin as Buffer);
  const unpacked = status.details.map((any) => anyUnpack(any, registry));
  return summarize(unpacked);
}

/** From a Connect error. */
export function connectDetails(error: ConnectError): SeenDetails {
  return summarize([
    ...error.findDetails(BadRequestSchema),
    ...error.findDetails(ErrorInfoSchema),
    ...error.findDetails(ResourceInfoSchema),
  ]);
}

function summarize(messages: ReadonlyArray<{ $typeName: string } | undefined>): SeenDetails {
  const badRequest = messages.find((m): m is BadRequest => m?.$typeName === 'google.rpc.BadRequest');
  return {
    violations: (badRequest?.fieldViolations ?? []).map((v) => ({ field: v.field, description: v.description })),
    errorInfo: messages.find((m): m is ErrorInfo => m?.$typeName === 'google.rpc.ErrorInfo'),
    resourceInfo: messages.find((m): m is ResourceInfo => m?.$typeName === 'google.rpc.ResourceInfo'),
  };
}

export async function connectRefusal(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(error)}`);
  return error;
}

export async function grpcRefusal(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof Error) || typeof (error as grpc.ServiceError).code !== 'number') {
    throw new Error(`expected a gRPC error, got ${String(error)}`);
  }
  return error as grpc.ServiceError;
}
