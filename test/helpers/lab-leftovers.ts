/**
 * What a lab run could leave behind, looked up the way an administrator would: `ip netns list`,
 * /sys/kernel/tracing/instances, `nft list tables` in the root namespace, `ps`, and temporary
 * recording directories.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

export const LAB_CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface Leftovers {
  namespaces: string[];
  instances: string[];
  nftTables: string[];
  processes: string[];
  tmpDirs: string[];
}

/** Leftovers of lab runs by process `pid` (all lab runs when pid is omitted). */
export function labLeftovers(pid?: number): Leftovers {
  const tag = pid === undefined ? 'tsllab-' : `tsllab-${pid}-`;
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(tag));
  let instances: string[] = [];
  try {
    instances = readdirSync('/sys/kernel/tracing/instances').filter((n) => n.startsWith(tag));
  } catch {
    instances = [];
  }
  const nftTables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('tsl_lab'));
  const processes = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /dist\/src\/lab\/agent\.js|tcpdump .*tcpsleuth-lab-|tcpdump .*\/capture(-any)?\.pcap/.test(l))
    .filter((l) => pid === undefined || !l.includes('ps -eo'));
  const tmpDirs = readdirSync(tmpdir()).filter((d) => d.startsWith(pid === undefined ? 'tcpsleuth-lab-' : `tcpsleuth-lab-${pid}-`));
  return { namespaces, instances, nftTables, processes, tmpDirs };
}

export function nothingLeft(l: Leftovers): boolean {
  return l.namespaces.length + l.instances.length + l.nftTables.length + l.processes.length + l.tmpDirs.length === 0;
}
