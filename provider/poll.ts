/** Polling a host's state with a deadline, instead of sleeping and hoping. */

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what: string;
}

/** Calls `probe` until `done` accepts its value; throws after the deadline with the last value described. */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs, intervalMs = 2000, what }: PollOptions,
  describe: (value: T) => string = (v) => JSON.stringify(v),
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() + intervalMs > deadline) {
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}; last seen: ${describe(value)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
