import type { GrpcConnections } from '../grpc-clients.js';
import type { BenchOptions } from '../options.js';
import type { OperationCounts } from '../pg-counts.js';
import type { Progress } from '../progress.js';
import type { ServerProcess } from '../server-process.js';

/** What every phase works with: the options, the server's three faces (gRPC, database, process), and the terminal. */
export interface RunContext {
  readonly options: BenchOptions;
  /** Part of every transaction id of the run. */
  readonly runId: string;
  readonly grpc: GrpcConnections;
  readonly counts: OperationCounts;
  readonly server: ServerProcess;
  readonly progress: Progress;
}
