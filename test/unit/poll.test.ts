import { poll, pollUntil } from "../../provider/poll";

describe("poll", () => {
  it("returns the first accepted value and stops probing", async () => {
    let calls = 0;
    const result = await poll(async () => ++calls, (n) => n === 3, { timeoutMs: 5000, intervalMs: 1 });
    expect(result).toEqual({ done: true, value: 3 });
    expect(calls).toBe(3);
  });

  it("returns the last value, not done, when the deadline passes", async () => {
    let calls = 0;
    const result = await poll(async () => ++calls, () => false, { timeoutMs: 30, intervalMs: 10 });
    expect(result.done).toBe(false);
    expect(result.value).toBe(calls);
    expect(calls).toBeGreaterThanOrEqual(1);
  });

  it("pollUntil throws with what was awaited and the last value", async () => {
    await expect(pollUntil(async () => "Secondary", (v) => v === "Primary", { timeoutMs: 20, intervalMs: 10, what: "r0 to be Primary" })).rejects.toThrow(
      /waiting for r0 to be Primary; last seen: "Secondary"/,
    );
  });
});
