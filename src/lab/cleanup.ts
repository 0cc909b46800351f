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
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTracefs, INSTANCE_PREFIX, listInstances, removeLeftoverInstances } from '../kernel/tracefs.js';
import { LAB_INSTANCE_PREFIX } from './kernel-view.js';
import { deleteNamespace, listNamespaces } from './netns.js';
import { LAB_NETNS_PREFIX, LAB_TMP_PREFIX } from './runner.js';

export interface CleanReport {
  namespaces: string[];
  /** Tracing instances of killed lab runs, and of killed `tcpsleuth trace` runs. */
  instances: string[];
  /** Temporary recording directories of killed runs. */
  directories: string[];
  /** Leftovers of lab runs that are still alive (left alone). */
  busy: string[];
}

function ownerAlive(name: string): boolean {
  const pid = Number(name.split('-')[1]);
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && existsSync(`/proc/${pid}`);
}

export async function labClean(): Promise<CleanReport> {
  const report: CleanReport = { namespaces: [], instances: [], directories: [], busy: [] };
  for (const name of await listNamespaces(LAB_NETNS_PREFIX)) {
    if (ownerAlive(name)) {
      report.busy.push(name);
      continue;
    }
    deleteNamespace(name);
    report.namespaces.push(name);
  }
  let root: string | null = null;
  try {
    root = await findTracefs({ mount: false });
  } catch {
    // no tracefs: no instance can be left
  }
  if (root !== null) {
    report.instances = await removeLeftoverInstances(root, LAB_INSTANCE_PREFIX);
    for (const n of await listInstances(root, LAB_INSTANCE_PREFIX)) if (!report.instances.includes(n)) report.busy.push(n);
    // Instances of trace runs that are still alive are theirs: left alone, and not a lab run's.
    report.instances.push(...(await removeLeftoverInstances(root, INSTANCE_PREFIX)));
  }
  for (const d of await readdir(tmpdir()).catch(() => [] as string[])) {
    if (!d.startsWith(LAB_TMP_PREFIX)) continue;
    const name = `x-${d.slice(LAB_TMP_PREFIX.length)}`;
    if (ownerAlive(name)) continue;
    await rm(join(tmpdir(), d), { recursive: true, force: true });
    report.directories.push(join(tmpdir(), d));
  }
  return report;
}
