import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findListeningPid, listeningInodes, parseCpuMs, parseRssBytes } from './server-process.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
// 50051 = 0xC383; 8080 = 0x1F90. State 0A is LISTEN, 01 ESTABLISHED.
const TCP = [
  HEADER,
  '   0: 00000000:C383 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41001 1 0000000000000000 100 0 0 10 0',
  '   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41002 1 0000000000000000 100 0 0 10 0',
  '   2: 0100007F:C383 0100007F:D6D8 01 00000000:00000000 00:00000000 00000000     0        0 41003 1 0000000000000000 20 4 30 10 -1',
  '   3: 0100007F:D6D8 0100007F:C383 01 00000000:00000000 00:00000000 00000000     0        0 41004 1 0000000000000000 20 4 30 10 -1',
].join('\n');
const TCP6 = [
  HEADER,
  '   0: 00000000000000000000000000000000:C383 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41005 1 0000000000000000 100 0 0 10 0',
].join('\n');

describe('listeningInodes', () => {
  it('finds the sockets listening on a port, not the connections to it', () => {
    expect(listeningInodes(TCP, 50051)).toEqual(['41001']);
    expect(listeningInodes(TCP, 8080)).toEqual(['41002']);
    expect(listeningInodes(TCP6, 50051)).toEqual(['41005']);
    expect(listeningInodes(TCP, 55000)).toEqual([]);
    expect(listeningInodes('', 50051)).toEqual([]);
  });
});

describe('findListeningPid', () => {
  const roots: string[] = [];
  afterEach(() => roots.splice(0).forEach((root) => rmSync(root, { recursive: true, force: true })));

  /** A /proc of our own: processes with the given open sockets. */
  const fakeProc = (processes: Record<string, string[]>): string => {
    const root = mkdtempSync(join(tmpdir(), 'bench-proc-'));
    roots.push(root);
    mkdirSync(join(root, 'net'));
    writeFileSync(join(root, 'net/tcp'), TCP);
    writeFileSync(join(root, 'net/tcp6'), TCP6);
    mkdirSync(join(root, 'self'));
    for (const [pid, targets] of Object.entries(processes)) {
      mkdirSync(join(root, pid, 'fd'), { recursive: true });
      targets.forEach((target, fd) => symlinkSync(target, join(root, pid, 'fd', String(fd))));
    }
    return root;
  };

  it('names the process holding the listening socket (IPv4 or IPv6)', () => {
    const proc = fakeProc({ '17': ['/dev/null', 'socket:[41003]'], '4242': ['pipe:[9]', 'socket:[41005]', 'socket:[41001]'], '99': ['socket:[41002]'] });
    expect(findListeningPid(50051, proc)).toBe(4242);
    expect(findListeningPid(8080, proc)).toBe(99);
  });

  it('says so when nothing listens, or when the port is shared', () => {
    const proc = fakeProc({ '5': ['socket:[41001]'], '6': ['socket:[41005]'] });
    expect(() => findListeningPid(55000, proc)).toThrow('nothing listens on port 55000');
    expect(() => findListeningPid(50051, proc)).toThrow('held by several processes (5, 6); pass --pid');
    expect(() => findListeningPid(8080, proc)).toThrow('by no process this user can see; pass --pid');
  });
});

describe('reading /proc/<pid>', () => {
  it('reads the resident memory from status', () => {
    expect(parseRssBytes('Name:\tnode\nVmPeak:\t 1000 kB\nVmRSS:\t  204800 kB\nRssAnon:\t 100 kB\n')).toBe(200 * 1024 * 1024);
    expect(() => parseRssBytes('Name:\tkthreadd\n')).toThrow('no VmRSS');
  });

  it('reads user plus system CPU time from stat, whatever the command name holds', () => {
    const stat = '4242 (node (main) x) S 1 4242 4242 0 -1 4194560 5000 0 0 0 250 50 0 0 20 0 11 0 1234 0 0';
    expect(parseCpuMs(stat)).toBe(3_000);
  });
});
