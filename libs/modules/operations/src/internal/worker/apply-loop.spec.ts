import { randomUUID } from 'node:crypto';
import { createLogger, Database } from '@tally/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { operationsSchema } from '../../index.js';
import { readOperations } from '../operation-store.js';
import type { ApplyOutcome, OperationToApply } from '@tally/platform';
import type { Appliers } from './appliers.js';
import { ApplyLoop } from './apply-loop.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import { claimNext, countResumes, heldByPartitions, takePartition } from './held-operations.js';

/**
 * One apply loop against the real database, on partitions of its own (1010 and 1011: no
 * worker serves them, and no other spec clears them): what it applies, and in which order.
 */
const PARTITIONS = [1010, 1011];
/** The worker the loops under test apply for; PostgreSQL records it as the partitions' owner. */
const OWNER = 'apply-loop-spec';
const logger = createLogger('silent');
let db: Database;

beforeAll(async () => {
  db = await Database.open({ url: process.env['DATABASE_URL']!, modules: [operationsSchema], logger });
});
beforeEach(async () => {
  for (const partition of PARTITIONS) await takePartition(db.sql, partition, OWNER);
});
beforeEach(async () => {
  const conn = db.em().getConnection();
  await conn.execute(`delete from operations.queue where partition = any(?::int[])`, [`{${PARTITIONS.join(',')}}`]);
  await conn.execute(`delete from operations.operation where partition = any(?::int[])`, [`{${PARTITIONS.join(',')}}`]);
});
afterAll(() => db.close());

/** An operation as accepting records it (PENDING, queued), or as a worker that died left it (PROCESSING). */
async function accepted(ledgerId: string, partition: number, status: 'PENDING' | 'PROCESSING' = 'PENDING', attempts = status === 'PENDING' ? 0 : 1): Promise<string> {
  const id = randomUUID();
  await db.em().getConnection().execute(
    `with op as (
       insert into operations.operation (id, kind, status, ledger_id, transaction_id, partition, request, request_hash, version, attempts)
       values (?, 'TRANSACTION', ?, ?, ?, ?, '{}', 'h', ?, ?) returning partition, seq, id
     )
     insert into operations.queue (partition, seq, id) select partition, seq, id from op`,
    [id, status, ledgerId, `tx-${id}`, partition, status === 'PENDING' ? 1 : 2, attempts],
  );
  return id;
}

/** Applies every operation (no effect), noting the order, each run waiting for `gate` if given. */
function recording(gate?: () => Promise<void>): { appliers: Appliers; applied: string[]; runs: number[] } {
  const applied: string[] = [];
  const runs: number[] = [];
  return {
    applied,
    runs,
    appliers: {
      TRANSACTION: async (_context, ops: readonly OperationToApply[]) => {
        await gate?.();
        runs.push(ops.length);
        applied.push(...ops.map((op) => op.id));
        return ops.map((): ApplyOutcome => ({ ok: true, balanceChanges: [] }));
      },
    },
  };
}

function loop(appliers: Appliers, held: readonly number[], limits: { maxBatchOps: number; maxBacklogOps?: number }, owner = OWNER): ApplyLoop {
  return new ApplyLoop({
    db,
    appliers,
    preparers: {},
    logger,
    owner,
    held: () => held,
    publish: () => undefined,
    handOff: () => undefined,
    partitions: 2_000,
    maxBatchOps: limits.maxBatchOps,
    maxBacklogOps: limits.maxBacklogOps ?? 10_000,
    backoff: DEFAULT_BACKOFF,
  });
}

describe('an apply loop', () => {
  it('resumes what a previous holder left PROCESSING before anything later of the same ledger', async () => {
    const ledger = randomUUID();
    const left = await accepted(ledger, PARTITIONS[0]!, 'PROCESSING');
    const later = [await accepted(ledger, PARTITIONS[0]!), await accepted(ledger, PARTITIONS[0]!)];
    const { appliers, applied } = recording();
    const applying = loop(appliers, [PARTITIONS[0]!], { maxBatchOps: 10 });
    await applying.drain();
    await applying.stop();
    expect(applied).toEqual([left, ...later]);
    expect((await readOperations(db.sql, applied)).map((op) => op.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
  });

  it('counts a resume as a try, and ends an operation its workers kept dying on FAILED RETRIES_EXHAUSTED instead of resuming it forever', async () => {
    const ledger = randomUUID();
    // Tried (claimed, then resumed) as often as the policy allows, each time its worker died.
    const poison = await accepted(ledger, PARTITIONS[0]!, 'PROCESSING', DEFAULT_BACKOFF.maxAttempts);
    const once = await accepted(ledger, PARTITIONS[0]!, 'PROCESSING', 1);
    const next = await accepted(ledger, PARTITIONS[0]!);
    const { appliers, applied } = recording();
    const applying = loop(appliers, [PARTITIONS[0]!], { maxBatchOps: 10 });
    await applying.drain();
    await applying.stop();
    expect(applied).toEqual([once, next]);
    const read = await readOperations(db.sql, [poison, once, next]);
    const [failed, resumed, claimed] = [poison, once, next].map((id) => read.find((op) => op.id === id));
    expect([failed?.status, failed?.error?.code, failed?.attempts]).toEqual(['FAILED', 'RETRIES_EXHAUSTED', DEFAULT_BACKOFF.maxAttempts]);
    expect(failed?.error?.message).toContain(`gave up after ${DEFAULT_BACKOFF.maxAttempts} attempts`);
    expect([resumed?.status, resumed?.attempts]).toEqual(['COMPLETED', 2]);
    expect([claimed?.status, claimed?.attempts]).toEqual(['COMPLETED', 1]);
  });

  it('applies every partition in its own acceptance order, batch after batch, each claiming the next', async () => {
    const ledgers = [randomUUID(), randomUUID()];
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await accepted(ledgers[i % 2]!, PARTITIONS[i % 2]!));
    const { appliers, applied, runs } = recording();
    const applying = loop(appliers, PARTITIONS, { maxBatchOps: 3 });
    await applying.drain();
    await applying.stop();
    expect(runs).toEqual([3, 3, 1]);
    expect(applied).toEqual(ids); // acceptance order across both partitions, so within each too
    const queued = await db.em().getConnection().execute<unknown[]>(`select 1 from operations.queue where partition = any(?::int[])`, [`{${PARTITIONS.join(',')}}`]);
    expect(queued).toEqual([]);
  });

  it('holds accepting back while its backlog is over the bound, and lets it go once the backlog is worked off', async () => {
    const ledger = randomUUID();
    for (let i = 0; i < 12; i++) await accepted(ledger, PARTITIONS[0]!);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { appliers, applied } = recording(() => gate);
    const applying = loop(appliers, [PARTITIONS[0]!], { maxBatchOps: 2, maxBacklogOps: 4 });
    await expect(applying.caughtUp()).resolves.toBeUndefined(); // nothing counted yet: nothing held back
    const draining = applying.drain(); // claims a full batch, then counts what waits
    await expect.poll(() => applying.backlogOps).toBe(12);
    let admitted = false;
    const admission = applying.caughtUp().then(() => (admitted = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(admitted).toBe(false); // the applier is stuck: nothing can have been worked off
    open();
    await draining;
    await admission;
    expect(applying.backlogOps).toBe(0);
    await applying.caughtUp(); // worked off: at once
    await applying.stop();
    expect(applied).toHaveLength(12);
  });
});

describe('the partition fence in PostgreSQL', () => {
  it("takes nothing from a partition another worker has taken over, and the new owner applies the old one's claims first", async () => {
    const partition = PARTITIONS[0]!;
    const ledger = randomUUID();
    const [first, second] = [await accepted(ledger, partition), await accepted(ledger, partition)];
    // The old owner claims the first, then loses the partition without knowing it yet (its
    // lease vanished with a Redis restarted empty, and another worker took it).
    expect((await claimNext(db.sql, { owner: OWNER, partitions: [partition], limit: 1 })).map((op) => op.id)).toEqual([first]);
    await takePartition(db.sql, partition, 'new-owner');
    expect(await claimNext(db.sql, { owner: OWNER, partitions: [partition], limit: 10 })).toEqual([]);
    expect(await heldByPartitions(db.sql, OWNER, [partition], 10)).toEqual([]);
    const { appliers, applied } = recording();
    const newOwner = loop(appliers, [partition], { maxBatchOps: 10 }, 'new-owner');
    await newOwner.drain();
    await newOwner.stop();
    expect(applied).toEqual([first, second]);
  });

  it('resumes nothing for a worker that read what was left PROCESSING, then lost the partition before counting the resume', async () => {
    const partition = PARTITIONS[0]!;
    await accepted(randomUUID(), partition, 'PROCESSING');
    const read = await heldByPartitions(db.sql, OWNER, [partition], 10);
    expect(read).toHaveLength(1);
    await takePartition(db.sql, partition, 'new-owner');
    expect(await countResumes(db.sql, OWNER, read)).toEqual([]);
    // The new owner resumes it: the version the old one read is still the operation's.
    expect((await countResumes(db.sql, 'new-owner', read)).map((op) => op.id)).toEqual([read[0]!.id]);
  });
});
