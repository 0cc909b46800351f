/**
 * A private network namespace that a test creates for itself, so live traffic never leaves it
 * and never meets anything else on the machine.
 *
 * Every process started through `spawn()` is tracked; `destroy()` ends those that are still
 * running, then ends anything else left inside the namespace (only this test can have put a
 * process into a namespace whose name it drew at random), then deletes the namespace.
 * `destroy()` may be called any number of times, also after a failed `create()`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { withTimeout } from './timeout.js';

const execFileAsync = promisify(execFile);

/** Every namespace a test creates starts with this, so a leftover is easy to recognise. */
export const TEST_NETNS_PREFIX = 'tsl-t-';

/** How long a short command (ip, ss, ...) inside the namespace may take before we give up. */
const COMMAND_TIMEOUT_MS = 10_000;
/** How long a killed process may take to be reaped. */
const EXIT_TIMEOUT_MS = 5_000;

export interface CommandOutput {
  stdout: string;
  stderr: string;
}

export class NetNamespace {
  readonly name: string;
  private readonly running = new Set<ChildProcess>();
  private destroyed = false;

  private constructor(name: string) {
    this.name = name;
  }

  /** Creates a fresh namespace with `lo` up (127.0.0.1 and ::1 usable), nothing else in it. */
  static async create(): Promise<NetNamespace> {
    const ns = new NetNamespace(TEST_NETNS_PREFIX + randomBytes(5).toString('hex'));
    await execFileAsync('ip', ['netns', 'add', ns.name], { timeout: COMMAND_TIMEOUT_MS });
    try {
      await ns.run(['ip', 'link', 'set', 'lo', 'up']);
    } catch (err) {
      await ns.destroy();
      throw err;
    }
    return ns;
  }

  /** Runs a command inside the namespace to completion; rejects if it fails or exits non-zero. */
  async run(argv: readonly string[]): Promise<CommandOutput> {
    const { stdout, stderr } = await execFileAsync('ip', ['netns', 'exec', this.name, ...argv], {
      timeout: COMMAND_TIMEOUT_MS,
      encoding: 'utf8',
    });
    return { stdout, stderr };
  }

  /**
   * Starts a long-running command inside the namespace with piped stdio.
   * `ip netns exec` execs the command in place, so the child's pid is the command's own pid
   * and signals sent to the child reach the command itself.
   */
  spawn(argv: readonly string[]): ChildProcess {
    if (this.destroyed) throw new Error(`namespace ${this.name} is already destroyed`);
    const child = spawn('ip', ['netns', 'exec', this.name, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.running.add(child);
    child.once('exit', () => this.running.delete(child));
    // A failed spawn emits 'error' and no 'exit'.
    child.once('error', () => this.running.delete(child));
    return child;
  }

  /** Ends every process in the namespace and deletes it. Safe to call again. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    await Promise.all([...this.running].map((child) => killAndReap(child)));
    if (!(await namespaceExists(this.name))) return;
    for (const pid of await this.pidsInside()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone between listing and killing.
      }
    }
    try {
      await execFileAsync('ip', ['netns', 'del', this.name], { timeout: COMMAND_TIMEOUT_MS });
    } catch (err) {
      // A concurrent destroy() may have won the race; only a namespace that is still there is a failure.
      if (await namespaceExists(this.name)) throw err;
    }
  }

  private async pidsInside(): Promise<number[]> {
    const { stdout } = await execFileAsync('ip', ['netns', 'pids', this.name], {
      timeout: COMMAND_TIMEOUT_MS,
      encoding: 'utf8',
    });
    return stdout
      .split('\n')
      .map((line) => Number.parseInt(line.trim(), 10))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
  }
}

/** Names of all namespaces currently present (`ip netns list` prints "NAME" or "NAME (id: N)"). */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await execFileAsync('ip', ['netns', 'list'], { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' });
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}

async function namespaceExists(name: string): Promise<boolean> {
  return (await listNamespaces()).includes(name);
}

/** SIGKILLs a child unless it has already exited, and waits (bounded) until it is reaped. */
async function killAndReap(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await withTimeout(exited, EXIT_TIMEOUT_MS, `pid ${child.pid} did not exit after SIGKILL`);
}
