/**
 * Shared checks for command-line values: every command says "not a port number" the same way.
 */
import { TsleuthError } from '../errors.js';

export function usageError(message: string): TsleuthError {
  return new TsleuthError('TSL_ERR_USAGE', message);
}

export function parsePort(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw usageError(`${flag} ${JSON.stringify(value)} is not a port number (0-65535)`);
  return n;
}

export function parsePid(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw usageError(`${flag} ${JSON.stringify(value)} is not a process id`);
  return n;
}

/** A number > 0 (whole if `integer`). */
export function parsePositive(value: string, flag: string, integer: boolean): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw usageError(`${flag} ${JSON.stringify(value)} is not a positive ${integer ? 'whole ' : ''}number`);
  }
  return n;
}

/** A whole number in [min, max]; undefined stays undefined (the flag was not given). */
export function parseWholeInRange(value: string | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw usageError(`${flag} ${JSON.stringify(value)} must be a whole number from ${min} to ${max}`);
  return n;
}
