/**
 * Ledgers are spread over N partitions (queues) by a deterministic hash of the ledger id, so
 * every process agrees where a ledger's operations go without asking anyone. FNV-1a (32 bit)
 * over the id's UTF-8 bytes: stable across versions, platforms and restarts.
 */
export function partitionOf(ledgerId: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be >= 1, got ${partitions}`);
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(ledgerId, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
