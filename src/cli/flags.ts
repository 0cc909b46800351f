/**
 * Shared checks for command-line values: every command says "not a port number" the same way.
 */
import { TsleuthError } from '../errors.js';

export function usageError(message: string): TsleuthError {
  return new TsleuthError('TSL_ERR_USAGE', message);
}

/**
 * Decimal digits only, as a number (NaN otherwise). Number() alone would also take "", " ",
 * "0x2329", "1e3" and "+5" — none of which a user means as a port or a count.
 */
function decimal(value: string, fraction: boolean): number {
  return (fraction ? /^\d+(\.\d+)?$/ : /^\d+$/).test(value.trim()) ? Number(value) : NaN;
}

export function parsePort(value: string, flag: string): number {
  const n = decimal(value, false);
  if (!(n <= 65535)) throw usageError(`${flag} ${JSON.stringify(value)} is not a port number (0-65535)`);
  return n;
}

export function parsePid(value: string, flag: string): number {
  const n = decimal(value, false);
  if (!(n > 0)) throw usageError(`${flag} ${JSON.stringify(value)} is not a process id`);
  return n;
}

/** A number > 0 (whole if `integer`). */
export function parsePositive(value: string, flag: string, integer: boolean): number {
  const n = decimal(value, !integer);
  if (!(n > 0 && Number.isFinite(n))) throw usageError(`${flag} ${JSON.stringify(value)} is not a positive ${integer ? 'whole ' : ''}number`);
  return n;
}

/** A whole number in [min, max]; undefined stays undefined (the flag was not given). */
export function parseWholeInRange(value: string | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = decimal(value, false);
  if (!(n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    throw usageError(`${flag} ${JSON.stringify(value)} must be a whole number ${range}`);
  }
  return n;
}
