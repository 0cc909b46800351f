/**
 * `tcpsleuth lab clean`: removes what a lab run killed outright (SIGKILL) left behind. A run
 * that ends any other way cleans up itself (runner.ts).
 *
 * Namespaces are named `tsllab-<pid>-<random>` and tracing instances `tsllab-<pid>-<random>`:
 * those whose pid no longer exists are leftovers. Deleting a namespace kills the processes still
 * inside it (socket programs, tcpdump) and takes its nft tables and sysctls with it.
 *
 * It also removes the tracing instances of `tcpsleuth trace` runs killed with SIGKILL
 * (`tsl-<pid>-<random>`, whose pid no longer exists), as `tcpsleuth trace` itself does when it
 * starts: it is the one command that cleans up after tcpsleuth.
 */
import { existsSync } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTracefs, INSTANCE_PREFIX, listInstances, TRACEFS_PATH } from '../kernel/tracefs.js';
import { LAB_INSTANCE_PREFIX } from './kernel-view.js';
import { deleteNamespace, listNamespaces } from './netns.js';
import { LAB_NETNS_PREFIX, LAB_TMP_PREFIX } from './runner.js';

export interface CleanFailure {
  what: 'namespace' | 'tracing instance' | 'directory';
  name: string;
  /** Why it could not be removed (the tool's or the system call's own words). */
  reason: string;
}

export interface CleanReport {
  /** Namespaces that were deleted (and are gone). */
  namespaces: string[];
  /** Tracing instances of killed lab runs, and of killed `tcpsleuth trace` runs, that were removed. */
  instances: string[];
  /** Temporary recording directories of killed runs that were removed (full paths). */
  directories: string[];
  /** Leftovers of lab runs that are still alive (left alone). */
  busy: string[];
  /** Leftovers that could not be removed, with the reason. */
  failed: CleanFailure[];
}

function ownerAlive(name: string): boolean {
  const pid = Number(name.split('-')[1]);
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && existsSync(`/proc/${pid}`);
}

function why(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code !== undefined ? `${err.code}: ${err.message.replace(/^[A-Z]+: /, '')}` : String(err.message ?? e);
}

/** rmdir of a tracing instance; EBUSY while a reader still holds its trace_pipe, so a few tries. */
async function removeInstance(root: string, name: string): Promise<string | null> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(join(root, 'instances', name));
      return null;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      if (code === 'EBUSY' && attempt < 10) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      return why(e);
    }
  }
}

export async function labClean(): Promise<CleanReport> {
  const report: CleanReport = { namespaces: [], instances: [], directories: [], busy: [], failed: [] };
  for (const name of await listNamespaces(LAB_NETNS_PREFIX)) {
    if (ownerAlive(name)) {
      report.busy.push(name);
      continue;
    }
    const failure = deleteNamespace(name);
    if (failure === null) report.namespaces.push(name);
    else report.failed.push({ what: 'namespace', name, reason: failure });
  }
  let root: string | null = null;
  try {
    root = await findTracefs({ mount: false });
  } catch {
    // Not mounted: no instance can be left. Mounted but not ours to write: list what is there,
    // so that what cannot be removed is named.
    root = existsSync(join(TRACEFS_PATH, 'instances')) ? TRACEFS_PATH : null;
  }
  if (root !== null) {
    // Instances of trace runs that are still alive are theirs: left alone, and not a lab run's.
    for (const [prefix, lab] of [
      [LAB_INSTANCE_PREFIX, true],
      [INSTANCE_PREFIX, false],
    ] as const) {
      for (const name of await listInstances(root, prefix)) {
        if (ownerAlive(name)) {
          if (lab) report.busy.push(name);
          continue;
        }
        const failure = await removeInstance(root, name);
        if (failure === null) report.instances.push(name);
        else report.failed.push({ what: 'tracing instance', name, reason: failure });
      }
    }
  }
  let entries: string[] = [];
  try {
    entries = await readdir(tmpdir());
  } catch (e) {
    report.failed.push({ what: 'directory', name: tmpdir(), reason: `cannot list it (${why(e)})` });
  }
  for (const d of entries) {
    if (!d.startsWith(LAB_TMP_PREFIX)) continue;
    const name = `x-${d.slice(LAB_TMP_PREFIX.length)}`;
    const path = join(tmpdir(), d);
    if (ownerAlive(name)) {
      report.busy.push(path);
      continue;
    }
    try {
      await rm(path, { recursive: true, force: true });
      report.directories.push(path);
    } catch (e) {
      report.failed.push({ what: 'directory', name: path, reason: why(e) });
    }
  }
  return report;
}
