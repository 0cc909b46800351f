/**
 * A live capture's quiet moments: the chunks of a source, with IDLE in between whenever nothing
 * arrived for a while. `analyze --follow` uses them to move the capture's clock on with the wall
 * clock — Zeek's timers run on packet time, so on a quiet link a refused or reset connection
 * would otherwise wait for the next packet (or Ctrl-C) before it ends and is reported.
 */

export const IDLE: unique symbol = Symbol('idle');

export async function* withIdleTicks<T>(source: AsyncGenerator<T>, idleMs: number): AsyncGenerator<T | typeof IDLE> {
  let waiting = false;
  try {
    for (;;) {
      // One reaction per read, whatever the number of quiet moments while it waits: racing the
      // read's promise once per tick would attach a reaction to it every second of a quiet link.
      let outcome: { ok: true; step: IteratorResult<T> } | { ok: false; error: unknown } | null = null;
      let wake: (() => void) | null = null;
      waiting = true;
      source.next().then(
        (step) => {
          outcome = { ok: true, step };
          wake?.();
        },
        (error: unknown) => {
          outcome = { ok: false, error };
          wake?.();
        },
      );
      for (;;) {
        // The read may have finished while the consumer handled the last tick: no second wait.
        if (outcome !== null) break;
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, idleMs);
        });
        clearTimeout(timer);
        wake = null;
        if (outcome !== null) break;
        yield IDLE;
      }
      waiting = false;
      const o = outcome as { ok: true; step: IteratorResult<T> } | { ok: false; error: unknown };
      if (!o.ok) throw o.error;
      if (o.step.done === true) return;
      yield o.step.value;
    }
  } finally {
    // Stopped early (the consumer broke off): close the source. If a read is still waiting, the
    // source takes the request once that read ends, without keeping the consumer waiting on a
    // quiet pipe.
    if (waiting) void source.return(undefined).catch(() => undefined);
    else await source.return(undefined);
  }
}
