-- The baseline's unit of work (run by src/baseline.ts under pgbench, in a scratch database):
-- one ledger operation as one PostgreSQL transaction, the least any durable ledger must do:
-- record an immutable entry, move the balance, record the operation's final status. Tally's
-- throughput figures are reported as multiples of how many of these the same PostgreSQL
-- commits per second on the same machine, measured in the same run.
\set ledger random(1, :ledgers)
\set amount random(1, 100000)
BEGIN;
INSERT INTO baseline_entries (ledger_id, currency, amount, transaction_id)
  VALUES (:ledger, 'USD', :amount, gen_random_uuid());
UPDATE baseline_balances SET balance = balance + :amount, version = version + 1
  WHERE ledger_id = :ledger AND currency = 'USD';
INSERT INTO baseline_operations (id, ledger_id, status, updated_at)
  VALUES (gen_random_uuid(), :ledger, 'COMPLETED', now());
END;
