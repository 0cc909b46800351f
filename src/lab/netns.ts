/**
 * Throw-away network namespaces: the lab's hosts, and the tests' private networks.
 *
 * Every namespace this process creates is named `<prefix>-<pid>-<random>` and remembered; all of
 * them are deleted on destroy(), at process exit, and on SIGHUP/SIGINT/SIGQUIT/SIGTERM, so a run that fails or
 * is interrupted leaves nothing behind. `removeLeftovers(prefix)` cleans up after a run that was
 * killed outright (SIGKILL), which no handler can catch.
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { TsleuthError } from '../errors.js';

const execFileP = promisify(execFile);

/** Prefix of every namespace tcpsleuth creates. */
export const NETNS_PREFIX = 'tsl';

export interface RunResult {
  stdout: string;
  stderr: string;
}

const live = new Set<string>();
let handlersInstalled = false;

/**
 * Kills every process inside `name` and deletes the namespace. Returns null when it is gone
 * afterwards (deleted now, or already gone), else why it could not be deleted.
 */
function deleteSync(name: string): string | null {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const pid of pids.split('\n').filter((p) => p.trim() !== '')) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // the namespace may already be gone, or we may not see its processes
  }
  let failure: string | null = null;
  try {
    execFileSync('ip', ['netns', 'delete', name], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    failure = err.code === 'ENOENT' ? "the 'ip' command (iproute2) is not installed" : ((err.stderr ?? '').trim().split('\n').pop() ?? '') || err.message;
  }
  // A failed delete of a namespace that no longer exists is no failure: it is gone.
  if (failure !== null && !existsSync(`/run/netns/${name}`)) failure = null;
  if (failure === null) live.delete(name);
  return failure;
}

/** SIGHUP (terminal closed), SIGINT, SIGQUIT, SIGTERM: each ends the process with 128 + its number. */
export const EXIT_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 } as const;

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const name of [...live]) deleteSync(name);
  });
  for (const sig of Object.keys(EXIT_SIGNALS) as (keyof typeof EXIT_SIGNALS)[]) {
    process.once(sig, () => {
      // Someone else (the lab runner) handles this signal and ends the process through exit,
      // where the handler above deletes what is left: leave it to them.
      if (process.listenerCount(sig) > 0) return;
      for (const name of [...live]) deleteSync(name);
      // Re-raise with the default action so the exit status says what killed us.
      process.kill(process.pid, sig);
    });
  }
}

async function ip(args: string[]): Promise<RunResult> {
  try {
    return await execFileP('ip', args, { encoding: 'utf8' });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new TsleuthError('TSL_ERR_ENV', "the 'ip' command (iproute2) is not installed; run scripts/setup.sh or apt-get install iproute2");
    const why = (err.stderr ?? err.message).trim();
    if (/Operation not permitted|Permission denied/.test(why)) {
      throw new TsleuthError('TSL_ERR_PRIVILEGE', `network namespaces need root (CAP_SYS_ADMIN): ip ${args.join(' ')}: ${why}`);
    }
    throw new TsleuthError('TSL_ERR_ENV', `ip ${args.join(' ')} failed: ${why}`);
  }
}

export class NetNamespace {
  readonly name: string;
  private destroyed = false;

  private constructor(name: string) {
    this.name = name;
  }

  /** Creates a namespace with its loopback up. */
  static async create(prefix: string = NETNS_PREFIX): Promise<NetNamespace> {
    installHandlers();
    const name = `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
    await ip(['netns', 'add', name]);
    live.add(name);
    const ns = new NetNamespace(name);
    try {
      await ns.run('ip', ['link', 'set', 'lo', 'up']);
    } catch (e) {
      await ns.destroy();
      throw e;
    }
    return ns;
  }

  /** Starts a process inside the namespace. */
  spawn(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, command, ...args], options);
  }

  /** Runs a command inside the namespace to completion; throws with its stderr on failure. */
  async run(command: string, args: string[]): Promise<RunResult> {
    return ip(['netns', 'exec', this.name, command, ...args]);
  }

  /** Sets a sysctl inside the namespace only (net.* sysctls are per namespace). */
  async sysctl(key: string, value: string | number): Promise<void> {
    await this.run('sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  /** Kills every process still inside, then deletes the namespace. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    deleteSync(this.name);
  }
}

export interface VethOptions {
  /** Address with prefix length for each end, e.g. "10.200.0.1/24". */
  addressA: string;
  addressB: string;
}

/** Connects two namespaces with a veth pair (ends named veth0 in each) and brings both up. */
export async function connectVeth(a: NetNamespace, b: NetNamespace, opts: VethOptions): Promise<void> {
  const tmp = `tslv${randomBytes(3).toString('hex')}`;
  await ip(['link', 'add', `${tmp}a`, 'netns', a.name, 'type', 'veth', 'peer', 'name', `${tmp}b`, 'netns', b.name]);
  for (const [ns, end, addr] of [
    [a, `${tmp}a`, opts.addressA],
    [b, `${tmp}b`, opts.addressB],
  ] as const) {
    await ns.run('ip', ['link', 'set', end, 'name', 'veth0']);
    await ns.run('ip', ['addr', 'add', addr, 'dev', 'veth0']);
    await ns.run('ip', ['link', 'set', 'veth0', 'up']);
  }
}

/** Names of existing namespaces that start with `prefix-`. */
export async function listNamespaces(prefix: string = NETNS_PREFIX): Promise<string[]> {
  const { stdout } = await ip(['netns', 'list']);
  return stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!.trim())
    .filter((n) => n.startsWith(`${prefix}-`));
}

/**
 * Kills every process inside the namespace `name` and deletes it (synchronously; never throws).
 * Returns null when the namespace is gone, else why `ip netns delete` could not delete it.
 */
export function deleteNamespace(name: string): string | null {
  return deleteSync(name);
}

/** Deletes namespaces left by runs that were killed outright; returns their names. */
export async function removeLeftovers(prefix: string = NETNS_PREFIX): Promise<string[]> {
  const names = await listNamespaces(prefix);
  return names.filter((n) => deleteSync(n) === null);
}
