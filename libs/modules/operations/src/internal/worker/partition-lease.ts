import type { Redis } from '@tally/platform';

/**
 * Which worker applies which partition: a lease in Redis (`tally:lease:partition-<n>`), held
 * with SET NX PX and renewed well before it expires. Only the holder consumes the partition,
 * which is what keeps a ledger's operations in order across workers. A worker that cannot
 * renew in time stops consuming before anyone else can take the lease over.
 *
 * The lease is a liveness tool, not the safety net: PostgreSQL's guarded status changes make
 * sure that even two workers on one partition by mistake never apply an operation twice, and
 * the partition's owner recorded in PostgreSQL (takePartition in held-operations.ts) keeps
 * them from applying its ledgers out of order when Redis forgets the leases (restarted empty).
 */

export interface LeasePolicy {
  /** How long a lease lives without renewal. */
  readonly leaseTtlMs: number;
  /** How often the holder renews (well below the TTL). */
  readonly renewIntervalMs: number;
}

export const DEFAULT_LEASE_POLICY: LeasePolicy = { leaseTtlMs: 10_000, renewIntervalMs: 3_000 };

export const leaseKey = (partition: number): string => `tally:lease:partition-${partition}`;

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class PartitionLease {
  constructor(
    private readonly redis: Redis,
    readonly workerId: string,
    readonly policy: LeasePolicy,
  ) {}

  /** True when this worker now holds the partition's lease. */
  async acquire(partition: number): Promise<boolean> {
    const set = await this.redis.set(leaseKey(partition), this.workerId, 'PX', this.policy.leaseTtlMs, 'NX');
    return set === 'OK';
  }

  /** True while this worker still holds it; false means stop consuming now. */
  async renew(partition: number): Promise<boolean> {
    const renewed = await this.redis.eval(RENEW, 1, leaseKey(partition), this.workerId, String(this.policy.leaseTtlMs));
    return renewed === 1;
  }

  async release(partition: number): Promise<void> {
    await this.redis.eval(RELEASE, 1, leaseKey(partition), this.workerId);
  }
}
