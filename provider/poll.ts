/** Polling a host's state with a deadline, instead of sleeping and hoping. The one polling loop of the package and its tests. */

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what: string;
}

export interface PollResult<T> {
  /** `done` accepted `value` before the deadline. */
  done: boolean;
  /** The last value probed. */
  value: T;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Calls `probe` until `done` accepts its value or the deadline would pass before the next probe; never throws on its own. */
export async function poll<T>(probe: () => Promise<T>, done: (value: T) => boolean, { timeoutMs, intervalMs = 2000 }: Omit<PollOptions, "what">): Promise<PollResult<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return { done: true, value };
    if (Date.now() + intervalMs > deadline) return { done: false, value };
    await sleep(intervalMs);
  }
}

/** Calls `probe` until `done` accepts its value; throws after the deadline with the last value described. */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  options: PollOptions,
  describe: (value: T) => string = (v) => JSON.stringify(v),
): Promise<T> {
  const result = await poll(probe, done, options);
  if (result.done) return result.value;
  throw new Error(`timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${options.what}; last seen: ${describe(result.value)}`);
}
