/** Helpers for the tests of the lab's power switch and of what talks to it: ports, the service's start, waits. */
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";

/** A port on which nothing listens. */
export function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port: free } = s.address() as net.AddressInfo;
      s.close(() => resolve(free));
    });
  });
}

export function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.stderr!.on("data", (d) => (err += d));
    child.once("exit", (code) => reject(new Error(`serve exited (${code}): ${err}`)));
  });
}

/** Date.now() once the condition holds, checked every 10 ms. */
export async function when(condition: () => boolean, timeoutMs = 20000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`the condition did not hold within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now();
}

export async function waitForFile(file: string, timeoutMs = 10000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    if (text.endsWith("\n")) return text;
    if (Date.now() > deadline) throw new Error(`${file} was not written within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
