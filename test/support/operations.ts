import { OperationStatus, type Operation } from '@tally/contracts';

const TERMINAL = new Set([OperationStatus.COMPLETED, OperationStatus.FAILED, OperationStatus.CANCELLED]);

/** Polls GetOperation until the operation is terminal; gives up after `patienceMs`. */
export async function settled(
  getOperation: (req: { operationId: string }) => Promise<{ operation?: Operation }>,
  operationId: string,
  patienceMs = 20_000,
): Promise<Operation> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    const { operation } = await getOperation({ operationId });
    if (operation && TERMINAL.has(operation.status)) return operation;
    if (Date.now() > deadline) throw new Error(`operation ${operationId} still ${operation ? OperationStatus[operation.status] : '?'} after ${patienceMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
