import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { REPO_ROOT } from './repo.js';

/** The circumstances a run's figures belong to: without them, two runs cannot be compared. */
export interface MachineFacts {
  readonly cpuCount: number;
  readonly cpuModel: string;
  readonly totalMemoryMb: number;
  readonly node: string;
}

export function machineFacts(): MachineFacts {
  const list = cpus();
  return { cpuCount: list.length, cpuModel: list[0]?.model ?? 'unknown', totalMemoryMb: Math.round(totalmem() / 1024 / 1024), node: process.version };
}

/** The commit of the working tree, with `-dirty` when it has uncommitted changes; null outside git. */
export function gitCommit(): string | null {
  try {
    const git = (...args: string[]): string => execFileSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git('rev-parse', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}-dirty`;
  } catch {
    return null;
  }
}
