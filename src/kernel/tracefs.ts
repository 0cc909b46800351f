/**
 * tracefs: finding (and if need be mounting) it, and private tracing instances.
 *
 * tcpsleuth never touches the global trace buffer, which other tools and people may be using:
 * every run makes `instances/tsl-<pid>-<random>` (mkdir creates a whole trace buffer with its
 * own events, filters and options), and removes it at the end (rmdir). The kernel refuses the
 * rmdir with EBUSY while `trace_pipe` is open, so the pipe is always closed first; it is read
 * with O_NONBLOCK, so no thread is ever parked in a read() that would keep it open.
 *
 * Every live instance is remembered and removed synchronously at process exit, so an error or
 * an uncaught exception leaves nothing behind; `removeLeftoverInstances` cleans up after a
 * process that was killed outright (SIGKILL), recognised by its pid no longer existing.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, openSync, readSync, rmdirSync, writeFileSync } from 'node:fs';
import { access, mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TsleuthError } from '../errors.js';

const execFileP = promisify(execFile);

export const TRACEFS_PATH = '/sys/kernel/tracing';
const DEBUGFS_TRACING_PATH = '/sys/kernel/debug/tracing';
/** Prefix of every tracing instance tcpsleuth creates. */
export const INSTANCE_PREFIX = 'tsl';

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export interface FindTracefsOptions {
  /** Mount tracefs at /sys/kernel/tracing when it is not mounted (default true; needs root). */
  mount?: boolean;
}

/**
 * The tracefs root (a directory with `instances/` and `events/`). Mounts tracefs when it is
 * missing and `mount` allows; throws TSL_ERR_PRIVILEGE / TSL_ERR_ENV with the remedy otherwise.
 */
export async function findTracefs(options: FindTracefsOptions = {}): Promise<string> {
  for (const root of [TRACEFS_PATH, DEBUGFS_TRACING_PATH]) {
    if (await exists(join(root, 'instances'))) return checkWritable(root);
  }
  if (!(await exists(TRACEFS_PATH))) {
    throw new TsleuthError('TSL_ERR_ENV', `tracefs is not available: ${TRACEFS_PATH} does not exist, so this kernel was built without CONFIG_TRACING (kernel events cannot be read; use a kernel with tracing, or tcpsleuth sockets/leaks, which need only netlink and /proc)`);
  }
  if (!isRoot() && (await tracefsMountpoints()).length > 0) {
    throw new TsleuthError('TSL_ERR_PRIVILEGE', `kernel tracing needs root: tracefs is mounted at ${(await tracefsMountpoints()).join(', ')} but this user may not read it; run tcpsleuth trace with sudo (or as root)`);
  }
  if (!isRoot()) {
    throw new TsleuthError('TSL_ERR_PRIVILEGE', `tracefs is not mounted and mounting it needs root: run tcpsleuth as root, or have root run "mount -t tracefs nodev ${TRACEFS_PATH}"`);
  }
  if (options.mount === false) {
    throw new TsleuthError('TSL_ERR_ENV', `tracefs is not mounted: run "mount -t tracefs nodev ${TRACEFS_PATH}"`);
  }
  try {
    await execFileP('mount', ['-t', 'tracefs', 'nodev', TRACEFS_PATH], { encoding: 'utf8' });
  } catch (e) {
    const why = ((e as { stderr?: string }).stderr ?? (e as Error).message).trim();
    throw new TsleuthError('TSL_ERR_ENV', `tracefs is not mounted and "mount -t tracefs nodev ${TRACEFS_PATH}" failed (${why}); the kernel may lack CONFIG_TRACING or the mount may be forbidden in this container`);
  }
  if (!(await exists(join(TRACEFS_PATH, 'instances')))) {
    throw new TsleuthError('TSL_ERR_ENV', `tracefs was mounted at ${TRACEFS_PATH} but has no instances/ directory; this kernel is too old for private tracing instances (Linux 3.10 or later is needed)`);
  }
  return checkWritable(TRACEFS_PATH);
}

/** Where tracefs is mounted, from /proc/self/mounts. */
async function tracefsMountpoints(): Promise<string[]> {
  try {
    return (await readFile('/proc/self/mounts', 'utf8'))
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f[2] === 'tracefs')
      .map((f) => f[1]!);
  } catch {
    return [];
  }
}

async function checkWritable(root: string): Promise<string> {
  try {
    await access(join(root, 'instances'), fsConstants.W_OK);
  } catch {
    throw new TsleuthError('TSL_ERR_PRIVILEGE', `kernel tracing needs root: ${root}/instances is not writable for this user; run tcpsleuth trace with sudo (or as root)`);
  }
  return root;
}

const live = new Set<TraceInstance>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const inst of [...live]) inst.removeSync();
  });
}

export interface TracePipeOptions {
  /** Bytes read per batch (each read() returns at most a page; a batch gathers many). Default 1 MiB. */
  bufferSize?: number;
  /** How long to wait when the pipe is empty before reading again, in ms. Default 20. */
  idleMs?: number;
}

/**
 * A non-blocking reader of an instance's trace_pipe. `run()` calls `onData` with each batch of
 * bytes and `onIdle` whenever the pipe is empty; `close()` ends the loop and closes the file.
 */
export class TracePipe {
  private fd: number | null;
  private readonly buf: Buffer;
  private readonly idleMs: number;
  private closing = false;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;

  constructor(path: string, options: TracePipeOptions = {}) {
    this.fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    this.buf = Buffer.allocUnsafe(options.bufferSize ?? 1 << 20);
    this.idleMs = options.idleMs ?? 20;
  }

  get isOpen(): boolean {
    return this.fd !== null;
  }

  /** Reads until close(); resolves once the file is closed. */
  async run(onData: (buf: Buffer, length: number) => void, onIdle: () => void): Promise<void> {
    try {
      while (!this.closing && this.fd !== null) {
        const n = this.fill();
        if (n > 0) onData(this.buf, n);
        if (n < this.buf.length - 8192) {
          // The pipe ran dry before the batch was full.
          onIdle();
          if (this.closing) break;
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            this.timer = setTimeout(resolve, this.idleMs);
          });
          this.wake = null;
        } else {
          // Let other work run between full batches.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      this.closeFd();
    }
  }

  /** One batch: read() until EAGAIN or the buffer is (nearly) full. */
  private fill(): number {
    let n = 0;
    while (this.fd !== null && n < this.buf.length - 8192) {
      let got: number;
      try {
        got = readSync(this.fd, this.buf, n, this.buf.length - n, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') break;
        throw e;
      }
      if (got <= 0) break;
      n += got;
    }
    return n;
  }

  /** Reads whatever is still buffered, without waiting (used just before close). */
  drain(onData: (buf: Buffer, length: number) => void): void {
    for (let i = 0; i < 64; i++) {
      const n = this.fill();
      if (n === 0) return;
      onData(this.buf, n);
    }
  }

  close(): void {
    this.closing = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.wake?.();
    this.closeFd();
  }

  private closeFd(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}

/** One private tracing instance: `<tracefs>/instances/<name>`. */
export class TraceInstance {
  readonly root: string;
  readonly name: string;
  readonly path: string;
  private pipe: TracePipe | null = null;
  private removed = false;

  private constructor(root: string, name: string) {
    this.root = root;
    this.name = name;
    this.path = join(root, 'instances', name);
  }

  /** Makes a new instance named `<prefix>-<pid>-<random>`; tracing is off in it until events are enabled. */
  static async create(root: string, prefix: string = INSTANCE_PREFIX): Promise<TraceInstance> {
    installExitHandler();
    const inst = new TraceInstance(root, `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`);
    try {
      await mkdir(inst.path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') {
        throw new TsleuthError('TSL_ERR_PRIVILEGE', `kernel tracing needs root: cannot create ${inst.path} (${code}); run tcpsleuth trace with sudo (or as root)`);
      }
      throw new TsleuthError('TSL_ERR_ENV', `cannot create the tracing instance ${inst.path}: ${(e as Error).message}`);
    }
    live.add(inst);
    return inst;
  }

  /** Writes a control file of the instance; a rejected write reports the kernel's error_log line. */
  async write(relPath: string, value: string): Promise<void> {
    try {
      await writeFile(join(this.path, relPath), value);
    } catch (e) {
      let detail = '';
      try {
        const log = (await readFile(join(this.path, 'error_log'), 'utf8')).trim().split('\n');
        detail = log.length > 0 && log[log.length - 1] !== '' ? ` (kernel says: ${log.slice(-2).join(' ').replace(/\s+/g, ' ')})` : '';
      } catch {
        // no error_log on old kernels
      }
      throw new TsleuthError('TSL_ERR_ENV', `writing ${JSON.stringify(value)} to ${join(this.path, relPath)} failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}${detail}`);
    }
  }

  async enableEvent(system: string, event: string, filter?: string): Promise<void> {
    if (filter !== undefined && filter !== '') await this.write(join('events', system, event, 'filter'), filter);
    await this.write(join('events', system, event, 'enable'), '1');
  }

  async setOption(option: string, on: boolean): Promise<boolean> {
    if (!(await exists(join(this.path, 'options', option)))) return false;
    await this.write(join('options', option), on ? '1' : '0');
    return true;
  }

  /** Selects the trace clock; returns false when the kernel does not offer it. */
  async setClock(clock: string): Promise<boolean> {
    const available = await readFile(join(this.path, 'trace_clock'), 'utf8');
    if (!available.split(/\s+/).some((c) => c.replace(/[[\]]/g, '') === clock)) return false;
    await this.write('trace_clock', clock);
    return true;
  }

  async setBufferSizeKb(kb: number): Promise<void> {
    await this.write('buffer_size_kb', String(kb));
  }

  /** Opens trace_pipe (once). */
  openPipe(options: TracePipeOptions = {}): TracePipe {
    if (this.pipe !== null) return this.pipe;
    this.pipe = new TracePipe(join(this.path, 'trace_pipe'), options);
    return this.pipe;
  }

  /** Closes trace_pipe, then removes the instance (retrying while the kernel still says EBUSY). */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.pipe?.close();
    try {
      await writeFile(join(this.path, 'tracing_on'), '0');
    } catch {
      // the instance may already be gone
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await rmdir(this.path);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code === 'EBUSY' && attempt < 50) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        throw new TsleuthError('TSL_ERR_ENV', `cannot remove the tracing instance ${this.path} (${code}); remove it by hand with "rmdir ${this.path}" once nothing reads its trace_pipe`);
      }
    }
    this.removed = true;
    live.delete(this);
  }

  /** For the exit handler: same as remove(), synchronously, never throws. */
  removeSync(): void {
    if (this.removed) return;
    this.pipe?.close();
    try {
      writeFileSync(join(this.path, 'tracing_on'), '0');
    } catch {
      // ignore
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        rmdirSync(this.path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EBUSY') break;
      }
    }
    this.removed = true;
    live.delete(this);
  }
}

/** Names of instances under `root` that start with `<prefix>-`. */
export async function listInstances(root: string = TRACEFS_PATH, prefix: string = INSTANCE_PREFIX): Promise<string[]> {
  try {
    return (await readdir(join(root, 'instances'))).filter((n) => n.startsWith(`${prefix}-`));
  } catch {
    return [];
  }
}

/** Removes instances left by tcpsleuth processes that no longer exist; returns their names. */
export async function removeLeftoverInstances(root: string = TRACEFS_PATH, prefix: string = INSTANCE_PREFIX): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await listInstances(root, prefix)) {
    const pid = Number(name.split('-')[1]);
    if (Number.isInteger(pid) && pid > 0 && (await exists(`/proc/${pid}`))) continue;
    try {
      await rmdir(join(root, 'instances', name));
      removed.push(name);
    } catch {
      // busy or gone: leave it
    }
  }
  return removed;
}

/** True when `path` is a directory (used to check that an instance has disappeared). */
export async function instanceExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
