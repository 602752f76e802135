/**
 * The stack's deployment with its secrets in clear, from the `pulumi` on PATH, which reads the
 * backend and passphrase settings from the environment it inherits.
 */
import { spawn } from "node:child_process";

export interface ExportOptions {
  /** The stack; default: the one the project has selected. */
  stack?: string | undefined;
  /** The Pulumi project's directory (`--cwd`). */
  cwd?: string | undefined;
  /** The Pulumi CLI to run. Default `pulumi` (from PATH). */
  pulumi?: string;
}

/** `pulumi stack export --show-secrets` as arguments. */
export function exportArguments(options: ExportOptions): string[] {
  return ["stack", "export", "--show-secrets", ...(options.stack ? ["--stack", options.stack] : []), ...(options.cwd ? ["--cwd", options.cwd] : [])];
}

export class StackExportError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    why: string,
  ) {
    super(`${command}: ${why}`);
    this.name = "StackExportError";
  }
}

export function exportDeployment(options: ExportOptions): Promise<unknown> {
  const program = options.pulumi ?? "pulumi";
  const args = exportArguments(options);
  const shown = [program, ...args].join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e: NodeJS.ErrnoException) => {
      reject(new StackExportError(shown, null, "", e.code === "ENOENT" ? `${program} is not on PATH: install the Pulumi CLI, or put it on PATH` : e.message));
    });
    child.on("close", (code) => {
      const stderr = Buffer.concat(err).toString("utf8").trim();
      if (code !== 0) return reject(new StackExportError(shown, code, stderr, `exit code ${code}${stderr ? `\n${stderr}` : ""}`));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString("utf8")));
      } catch (e) {
        reject(new StackExportError(shown, code, stderr, `printed something other than JSON (${(e as Error).message})`));
      }
    });
  });
}
