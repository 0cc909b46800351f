/**
 * A bound on how long a test waits for an event: every await on another process goes through
 * this, so a hang becomes a failure with a message instead of a stuck test run.
 */

/** Resolves like `promise`, or rejects with `message` after `ms` milliseconds. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (waited ${ms} ms)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
