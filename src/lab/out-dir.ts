/**
 * `--out DIR`: checked before anything runs, so a file, a path under a kernel file system or an
 * unwritable place is one sentence (a usage error) rather than an internal error after the run —
 * or a `mkdir -p` that never returns (under /proc).
 */
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TsleuthError } from '../errors.js';

const KERNEL_FS = ['/proc', '/sys'];

function underKernelFs(p: string): string | null {
  return KERNEL_FS.find((k) => p === k || p.startsWith(`${k}/`)) ?? null;
}

function usage(message: string): TsleuthError {
  return new TsleuthError('TSL_ERR_USAGE', message);
}

/** Returns the absolute directory, or throws TSL_ERR_USAGE saying why it cannot hold recordings. */
export function checkOutDir(path: string): string {
  if (path === '') throw usage('--out needs a directory');
  const dir = resolve(path);
  const shown = JSON.stringify(path);
  // The nearest part of the path that exists decides: it must be a writable directory.
  let existing = dir;
  for (;;) {
    try {
      statSync(existing);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') throw usage(`--out ${shown}: a part of that path is a file, not a directory`);
      if (code === 'EACCES') throw usage(`--out ${shown}: ${existing} cannot be reached (permission denied)`);
      if (code !== 'ENOENT') throw usage(`--out ${shown}: cannot use ${existing} (${code ?? (e as Error).message})`);
    }
    existing = dirname(existing);
  }
  const real = realpathSync(existing);
  const kfs = underKernelFs(dir) ?? underKernelFs(real);
  if (kfs !== null) throw usage(`--out ${shown} is under ${kfs}, a kernel file system: choose a directory on a real file system`);
  if (!statSync(existing).isDirectory()) {
    throw usage(existing === dir ? `--out ${shown} exists and is not a directory` : `--out ${shown}: ${existing} is not a directory`);
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw usage(`--out ${shown}: ${existing} is not writable${code === 'EROFS' ? ' (read-only file system)' : ''}`);
  }
  return dir;
}
