/**
 * The project's C addons (native/, built by node-gyp against Node's own headers at `npm ci`, or
 * by `npm run build:native`): loaded once each, with one clear sentence when one is missing.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { TsleuthError } from './errors.js';

const loaded = new Map<string, unknown>();

/** native/build/Release/NAME.node, found from dist/src/ (compiled) or src/ (sources). */
export function addonPath(name: string): string {
  const candidates = [`../../native/build/Release/${name}.node`, `../native/build/Release/${name}.node`].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

/** The addon NAME; `what` says in the error what it is for ("the lab's native addon"). */
export function loadAddon<T>(name: string, what: string): T {
  const cached = loaded.get(name);
  if (cached !== undefined) return cached as T;
  const path = addonPath(name);
  if (!existsSync(path)) {
    throw new TsleuthError('TSL_ERR_ENV', `${what} is not built (${path} is missing): run "npm run build:native" (needs g++, make and Node's headers; "npm ci" builds it too)`);
  }
  const addon = createRequire(import.meta.url)(path) as T;
  loaded.set(name, addon);
  return addon;
}
