import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * The server as a process: which one listens on the gRPC port, and how much memory and CPU it
 * uses, read from /proc (Linux), the way `ps` and `top` do. Nothing here talks to the server.
 */

/** /proc/<pid>/stat counts CPU time in clock ticks of this length (USER_HZ, 100 on Linux). */
export const CLOCK_TICKS_PER_S = 100;
/** How often the server's memory is sampled during a run. */
export const RSS_SAMPLE_INTERVAL_MS = 250;

const TCP_LISTEN = '0A';

/**
 * Socket inodes listening on `port` in a /proc/net/tcp or /proc/net/tcp6 table (any local
 * address: a server on 0.0.0.0 or :: answers 127.0.0.1 too).
 */
export function listeningInodes(table: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [, local, , state, , , , , , inode] = fields;
    const localPort = parseInt(local!.slice(local!.lastIndexOf(':') + 1), 16);
    if (state === TCP_LISTEN && localPort === port && inode !== '0') inodes.push(inode!);
  }
  return inodes;
}

/** The one process holding a socket that listens on `port`; throws, saying why, if there is not exactly one. */
export function findListeningPid(port: number, proc = '/proc'): number {
  const inodes = new Set<string>();
  for (const table of ['net/tcp', 'net/tcp6']) {
    try {
      for (const inode of listeningInodes(readFileSync(`${proc}/${table}`, 'utf8'), port)) inodes.add(inode);
    } catch {
      // No IPv6 table on this kernel: the other one is enough.
    }
  }
  if (inodes.size === 0) throw new Error(`nothing listens on port ${port} on this machine; is Tally running (npm start), or pass --start`);
  const pids = new Set<number>();
  for (const entry of readdirSync(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`${proc}/${entry}/fd`);
    } catch {
      continue; // Gone, or not ours to read.
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${proc}/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) pids.add(Number(entry));
    }
  }
  if (pids.size !== 1) {
    throw new Error(
      pids.size === 0
        ? `port ${port} is listened on, but by no process this user can see; pass --pid`
        : `port ${port} is held by several processes (${[...pids].join(', ')}); pass --pid`,
    );
  }
  return [...pids][0]!;
}

/** VmRSS of a /proc/<pid>/status text, in bytes. */
export function parseRssBytes(status: string): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error('no VmRSS line in the process status');
  return Number(kb) * 1024;
}

/** User plus system CPU time of a /proc/<pid>/stat text, in milliseconds. */
export function parseCpuMs(stat: string): number {
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('unexpected /proc/<pid>/stat format');
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_S;
}

/** The server's memory, sampled every RSS_SAMPLE_INTERVAL_MS for the whole run, and its CPU time. */
export class ServerProcess {
  #peakBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #gone: Error | undefined;

  constructor(readonly pid: number) {}

  /** Reads the memory now; throws if the process is gone (the run cannot go on without it). */
  rssBytes(): number {
    let bytes: number;
    try {
      bytes = parseRssBytes(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    } catch (error) {
      throw new Error(`cannot read the server's memory (pid ${this.pid}): ${(error as Error).message}`);
    }
    if (bytes > this.#peakBytes) this.#peakBytes = bytes;
    return bytes;
  }

  cpuMs(): number {
    return parseCpuMs(readFileSync(`/proc/${this.pid}/stat`, 'utf8'));
  }

  startSampling(): void {
    this.rssBytes();
    this.#timer = setInterval(() => {
      try {
        this.rssBytes();
      } catch (error) {
        this.#gone ??= error as Error;
      }
    }, RSS_SAMPLE_INTERVAL_MS);
    this.#timer.unref();
  }

  stopSampling(): void {
    clearInterval(this.#timer);
  }

  get peakBytes(): number {
    return this.#peakBytes;
  }

  /** Set once a sample failed: the server exited (or crashed) during the run. */
  get gone(): Error | undefined {
    return this.#gone;
  }
}

export const MB = 1024 * 1024;
