/**
 * A live capture's quiet moments: the chunks of a source, with IDLE in between whenever nothing
 * arrived for a while. `analyze --follow` uses them to move the capture's clock on with the wall
 * clock — Zeek's timers run on packet time, so on a quiet link a refused or reset connection
 * would otherwise wait for the next packet (or Ctrl-C) before it ends and is reported.
 */

export const IDLE: unique symbol = Symbol('idle');

export async function* withIdleTicks<T>(source: AsyncGenerator<T>, idleMs: number): AsyncGenerator<T | typeof IDLE> {
  let pending: Promise<IteratorResult<T>> | null = null;
  try {
    for (;;) {
      pending ??= source.next();
      let timer: NodeJS.Timeout | undefined;
      const quiet = new Promise<typeof IDLE>((resolve) => {
        timer = setTimeout(resolve, idleMs, IDLE);
      });
      const step = await Promise.race([pending, quiet]);
      clearTimeout(timer);
      if (step === IDLE) {
        yield IDLE;
        continue;
      }
      pending = null;
      if (step.done === true) return;
      yield step.value;
    }
  } finally {
    // Stopped early (the consumer broke off): close the source. If a read is still waiting, the
    // source cannot take the request before that read ends; it is closed then, without keeping
    // the consumer waiting on a quiet pipe.
    if (pending === null) await source.return(undefined);
    else void pending.then(() => source.return(undefined)).catch(() => undefined);
  }
}
