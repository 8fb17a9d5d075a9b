// Where a run happened. The hardware signature decides comparability: two
// runs whose signatures differ are never compared as if they were alike.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpus, totalmem, platform, arch, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { RunEnvironment } from '../results/record.ts';

/** The harness's own checkout: the commit is the harness's, whatever the working directory (profile runs elsewhere). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function hardwareSignature(e: Pick<RunEnvironment, 'cpu_model' | 'cpu_count' | 'total_memory_bytes' | 'platform' | 'arch'>): string {
  // Memory is rounded to GiB so a kernel's reserved pages do not split identical machines.
  const gib = Math.round(e.total_memory_bytes / 2 ** 30);
  return createHash('sha256').update(`${e.cpu_model}|${e.cpu_count}|${gib}|${e.platform}|${e.arch}`).digest('hex').slice(0, 16);
}

export function runEnvironment(): RunEnvironment {
  const cpu = cpus();
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  const base = {
    git_commit: git(['rev-parse', 'HEAD']),
    git_dirty: status === null ? null : status.length > 0,
    node_version: process.version,
    platform: platform(),
    arch: arch(),
    kernel: release(),
    cpu_model: cpu[0]?.model.trim() ?? 'unknown',
    cpu_count: cpu.length,
    total_memory_bytes: totalmem(),
  };
  return { ...base, hardware_signature: hardwareSignature(base) };
}
