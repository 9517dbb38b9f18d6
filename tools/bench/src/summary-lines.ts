import { formatByCode } from './errors.js';
import type { BalancesResult } from './phases/balances.js';
import type { SubmitPhaseResult } from './phases/measure.js';
import type { OpenLoopResult } from './phases/open-loop.js';
import type { WatchesResult } from './phases/watches.js';
import { formatValue } from './report.js';

/** One line per finished phase on stderr, so a run can be followed (and cut short) before the table. */

const ms = (v: number): string => formatValue(v, 'ms');
const rate = (v: number): string => formatValue(v, 'per_s');
const cpu = (t: { benchCpuPct: number; serverCpuPct: number }): string =>
  `CPU bench ${Math.round(t.benchCpuPct)}% server ${Math.round(t.serverCpuPct)}%`;

export function submitLine(p: SubmitPhaseResult): string {
  const outcomes = p.outcomes.map((o) => `${o.status}${o.reason ? ` ${o.reason}` : ''} ${o.count}`).join(', ');
  return [
    `${p.phase}: accepted ${rate(p.acceptedPerS)}, completed ${rate(p.completedPerS)}`,
    `submit p50/p95/p99 ${ms(p.latencyMs.p50)} / ${ms(p.latencyMs.p95)} / ${ms(p.latencyMs.p99)}`,
    `answered OK ${p.clientOk}, in PostgreSQL ${p.accepted}`,
    `errors ${formatByCode(p.errors.byCode)}`,
    `drained in ${(p.drainMs / 1000).toFixed(1)} s${p.leftInFlight > 0 ? ` (${p.leftInFlight} LEFT)` : ''}, caught up ${(p.settleMs / 1000).toFixed(1)} s later`,
    `ended ${outcomes || 'none'}`,
    cpu(p.timing),
  ].join('; ');
}

export function openLine(o: OpenLoopResult): string {
  return [
    `${o.phase}: ${rate(o.ratePerS)} scheduled, accepted ${rate(o.acceptedPerS)}`,
    `submit p50/p99 ${ms(o.latencyMs.p50)} / ${ms(o.latencyMs.p99)} from the due time (bench send lag p99 ${ms(o.sendLagMs.p99)})`,
    `accepted → COMPLETED p50/p99 ${ms(o.completionMs.p50)} / ${ms(o.completionMs.p99)} from the send, seen by a watcher`,
    `never seen COMPLETED ${o.neverSeenCompleted}, skipped ${o.skipped}`,
    `errors ${formatByCode(o.errors.byCode)}, watch endings ${formatByCode(o.watchErrors.byCode)}`,
    cpu(o.timing),
  ].join('; ');
}

export function balancesLine(b: BalancesResult): string {
  return `balances: ${rate(b.requestsPerS)}, p50/p95/p99 ${ms(b.latencyMs.p50)} / ${ms(b.latencyMs.p95)} / ${ms(b.latencyMs.p99)}; errors ${formatByCode(b.errors.byCode)}; ${cpu(b.timing)}`;
}

export function watchesLine(w: WatchesResult): string {
  return [
    `watches: ${w.opened} opened, ${w.held} held, ${w.endedEarly} ended early (${formatByCode(w.endings.byCode)}), ${w.notDelivered} never delivered, ${w.withoutProbe} without a probe (refused)`,
    `delivery p50/p99 ${ms(w.deliveryMs.p50)} / ${ms(w.deliveryMs.p99)} from the probe's send`,
    `server RSS ${formatValue(w.rssBeforeMb, 'mb')} before, ${formatValue(w.rssWithStreamsMb, 'mb')} with the streams open`,
    `probe errors ${formatByCode(w.probeErrors.byCode)}`,
  ].join('; ');
}
