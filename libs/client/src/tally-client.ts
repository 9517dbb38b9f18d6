import { Code, createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { ExchangeService, LedgerService, OperationService, type Operation } from '@tally/contracts';
import { callHeaders, type CallHeaders } from './call-headers.js';
import { submitAndWait, type SubmitAndWaitOptions } from './submit-and-wait.js';
import type { Submission } from './submission.js';
import { clientError } from './tally-error.js';
import { withTallyErrors } from './typed-errors-transport.js';
import { createWebTransport } from './web-transport.js';

/** The wire protocol: Connect and gRPC-Web on Tally's HTTP port, native gRPC (Node only) on its gRPC port. */
export type TransportKind = 'connect' | 'grpc-web' | 'grpc';

export const TRANSPORT_KINDS: readonly TransportKind[] = ['connect', 'grpc-web', 'grpc'];

export interface TallyClientOptions {
  /** Tally's HTTP port for 'connect' and 'grpc-web' (http://127.0.0.1:8080); its gRPC port (50051) for 'grpc'. */
  readonly baseUrl: string;
  /** Default 'connect'. */
  readonly transport?: TransportKind;
  /** Sent on every call (`x-client-id`, ...); a function is asked before each call. */
  readonly headers?: CallHeaders;
  /** Sent on every call as `authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
}

export interface TallyClient {
  /** LedgerService: ledgers, currencies, balances, entries, submits. */
  readonly ledgers: Client<typeof LedgerService>;
  /** ExchangeService: currencies, rates, quotes, exchanges. */
  readonly exchange: Client<typeof ExchangeService>;
  /** OperationService: operations, their cancel, and the WatchOperation / WatchLedger streams (async iterables). */
  readonly operations: Client<typeof OperationService>;
  /** Submits, retrying what is transient, and resolves with the operation once terminal (submit-and-wait.ts). */
  submitAndWait(submission: Submission, options?: SubmitAndWaitOptions): Promise<Operation>;
}

/** Builds the native gRPC transport; only the Node entry has one. */
export type GrpcTransportFactory = (baseUrl: string, interceptors: Interceptor[]) => Transport;

/** createTallyClient of both entries: `grpc` is the Node entry's gRPC transport, absent in browsers. */
export function buildTallyClient(options: TallyClientOptions, grpc: GrpcTransportFactory | undefined): TallyClient {
  const kind = options.transport ?? 'connect';
  const baseUrl = checkedBaseUrl(options.baseUrl);
  const interceptors = [callHeaders(options.headers, options.apiKey)];
  switch (kind) {
    case 'connect':
    case 'grpc-web':
      return createTallyClientWithTransport(createWebTransport(kind, baseUrl, interceptors));
    case 'grpc':
      if (!grpc) {
        throw clientError(
          "transport 'grpc' needs HTTP/2 from Node (node:http2) and is not in the browser build of @tally/client: use 'connect' or 'grpc-web' with Tally's HTTP port",
          Code.Unimplemented,
          'TRANSPORT_UNSUPPORTED',
          { transport: kind },
        );
      }
      return createTallyClientWithTransport(grpc(baseUrl, interceptors));
    default:
      throw clientError(`unknown transport '${String(kind)}': one of ${TRANSPORT_KINDS.join(', ')}`, Code.InvalidArgument, 'TRANSPORT_UNKNOWN', { transport: String(kind) });
  }
}

/**
 * A Tally client over a transport of the caller's (an in-memory router in tests, say). Its
 * calls reject with TallyErrors like any other's; headers and keys are the transport's business.
 */
export function createTallyClientWithTransport(transport: Transport): TallyClient {
  const typed = withTallyErrors(transport);
  const services = {
    ledgers: createClient(LedgerService, typed),
    exchange: createClient(ExchangeService, typed),
    operations: createClient(OperationService, typed),
  };
  return { ...services, submitAndWait: (submission, options) => submitAndWait(services, submission, options) };
}

function checkedBaseUrl(baseUrl: string): string {
  const url = URL.canParse(baseUrl) ? new URL(baseUrl) : undefined;
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw clientError(`baseUrl must be an http: or https: URL, got '${baseUrl}'`, Code.InvalidArgument, 'BASE_URL_INVALID', { baseUrl });
  }
  return baseUrl;
}
