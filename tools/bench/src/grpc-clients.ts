import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';

/**
 * The bench speaks native gRPC like any other client of Tally: grpc-js calls whose paths and
 * byte codecs come from the protobuf-es descriptors in @tally/contracts (no .proto loading, no
 * server code). Calls are spread round-robin over several channels, each its own HTTP/2
 * connection, so that one connection's flow control or one socket is not what gets measured.
 */

/** A unary call that takes longer than this is given up (the server's own timeout is shorter). */
export const CALL_DEADLINE_MS = 30_000;
/** How long the server may take to answer at all before the run is abandoned. */
export const CONNECT_PATIENCE_MS = 10_000;

interface GrpcMethod<I extends DescMessage, O extends DescMessage> {
  readonly path: string;
  serialize(message: MessageShape<I>): Buffer;
  deserialize(bytes: Buffer): MessageShape<O>;
}

const methods = new WeakMap<object, GrpcMethod<DescMessage, DescMessage>>();

/** `/tally.v1.LedgerService/SubmitTransaction` with its codecs, derived once per method. */
function grpcMethod<I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O> | DescMethodServerStreaming<I, O>,
): GrpcMethod<I, O> {
  const known = methods.get(method) as GrpcMethod<I, O> | undefined;
  if (known) return known;
  const made: GrpcMethod<I, O> = {
    path: `/${method.parent.typeName}/${method.name}`,
    serialize: (message) => Buffer.from(toBinary(method.input, message)),
    deserialize: (bytes) => fromBinary(method.output, bytes),
  };
  methods.set(method, made as unknown as GrpcMethod<DescMessage, DescMessage>);
  return made;
}

export interface CallOptions {
  /** Request headers (metadata). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly deadlineMs?: number;
}

export class GrpcConnections {
  readonly address: string;
  readonly #clients: grpc.Client[];
  #next = 0;

  constructor(address: string, connections: number) {
    this.address = address;
    this.#clients = Array.from(
      { length: connections },
      () =>
        new grpc.Client(address, grpc.credentials.createInsecure(), {
          // grpc-js shares one connection per address between channels unless each has a pool of its own.
          'grpc.use_local_subchannel_pool': 1,
        }),
    );
  }

  /** Resolves once every channel is connected; rejects with a clear message if the server does not answer. */
  async ready(patienceMs = CONNECT_PATIENCE_MS): Promise<void> {
    const deadline = Date.now() + patienceMs;
    await Promise.all(
      this.#clients.map(
        (client) =>
          new Promise<void>((resolve, reject) =>
            client.waitForReady(deadline, (error) =>
              error
                ? reject(new Error(`no gRPC server answers at ${this.address} within ${patienceMs / 1000} s (${error.message}); is Tally running (npm start), or pass --start`))
                : resolve(),
            ),
          ),
      ),
    );
  }

  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    options: CallOptions = {},
  ): Promise<MessageShape<O>> {
    const { path, serialize, deserialize } = grpcMethod(method);
    const message = create(method.input, request);
    return new Promise((resolve, reject) => {
      this.#nextClient().makeUnaryRequest(
        path,
        serialize,
        deserialize,
        message,
        metadataOf(options),
        { deadline: Date.now() + (options.deadlineMs ?? CALL_DEADLINE_MS) },
        (error, response) => (error ? reject(error) : resolve(response!)),
      );
    });
  }

  /** A server stream, without a deadline: the caller cancels it. */
  serverStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    request: MessageInitShape<I>,
    options: CallOptions = {},
  ): grpc.ClientReadableStream<MessageShape<O>> {
    const { path, serialize, deserialize } = grpcMethod(method);
    return this.#nextClient().makeServerStreamRequest(path, serialize, deserialize, create(method.input, request), metadataOf(options));
  }

  close(): void {
    for (const client of this.#clients) client.close();
  }

  #nextClient(): grpc.Client {
    const client = this.#clients[this.#next]!;
    this.#next = (this.#next + 1) % this.#clients.length;
    return client;
  }
}

function metadataOf(options: CallOptions): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(options.headers ?? {})) metadata.set(key, value);
  return metadata;
}

/** The gRPC status name of a failed call (`UNAVAILABLE`), or `UNKNOWN` for a non-gRPC error. */
export function statusName(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? codeName(code) : 'UNKNOWN';
}

/** The name of a gRPC status code (14 is `UNAVAILABLE`), as in a batch item's google.rpc.Status. */
export function codeName(code: number): string {
  return grpc.status[code] ?? 'UNKNOWN';
}

/** The message a failed call carried (grpc-js prefixes it with the code). */
export function statusMessage(error: unknown): string {
  const details = (error as { details?: unknown } | null)?.details;
  if (typeof details === 'string' && details !== '') return details;
  return error instanceof Error ? error.message : String(error);
}
