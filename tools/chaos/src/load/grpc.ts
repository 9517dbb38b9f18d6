import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { create, fromBinary, toBinary, type DescMessage, type DescMethodUnary, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { ErrorInfoSchema, StatusSchema } from '@tally/contracts';

/**
 * The run's clients speak native gRPC like any client of Tally: grpc-js calls whose paths and
 * codecs come from the protobuf-es descriptors in @tally/contracts. Channels reconnect quickly
 * (Tally's API process is killed and started again all the time here), and a call made while
 * the channel is down fails at once with UNAVAILABLE rather than waiting.
 */

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.use_local_subchannel_pool': 1,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
};

export class GrpcChannel {
  readonly #client: grpc.Client;

  constructor(address: string) {
    this.#client = new grpc.Client(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  }

  unary<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>, request: MessageInitShape<I>, deadlineMs: number): Promise<MessageShape<O>> {
    const message = create(method.input, request);
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        `/${method.parent.typeName}/${method.name}`,
        (m: MessageShape<I>) => Buffer.from(toBinary(method.input, m)),
        (bytes: Buffer) => fromBinary(method.output, bytes),
        message,
        new grpc.Metadata(),
        { deadline: Date.now() + deadlineMs },
        (error, response) => (error ? reject(error) : resolve(response!)),
      );
    });
  }

  close(): void {
    this.#client.close();
  }
}

/** What a failed call said: its gRPC status name, and the ErrorInfo reason when Tally gave one. */
export interface CallFailure {
  readonly code: string;
  readonly reason: string | undefined;
  readonly message: string;
}

export function callFailure(error: unknown): CallFailure {
  const e = error as Partial<grpc.ServiceError> | null;
  const code = typeof e?.code === 'number' ? (grpc.status[e.code] ?? 'UNKNOWN') : 'UNKNOWN';
  const message = typeof e?.details === 'string' && e.details !== '' ? e.details : error instanceof Error ? error.message : String(error);
  return { code, reason: errorReason(e?.metadata), message };
}

function errorReason(metadata: grpc.Metadata | undefined): string | undefined {
  const bin = metadata?.get('grpc-status-details-bin')[0];
  if (!(bin instanceof Buffer)) return undefined;
  try {
    const status = fromBinary(StatusSchema, bin);
    for (const detail of status.details) {
      const info = anyUnpack(detail, ErrorInfoSchema);
      if (info) return info.reason;
    }
  } catch {
    // Undecodable details: the status code alone says what happened.
  }
  return undefined;
}
