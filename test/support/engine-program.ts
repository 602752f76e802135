/** A stack's file backend and secrets, and a program directory with this package installed in it. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as crypto from "node:crypto";
import { repoRoot, requireEngine } from "./engine-locate";

/** A backend and its secrets, in a temp dir owned by the caller. */
export interface EngineEnv {
  /** The temp dir holding everything below (removed by `dispose`). */
  root: string;
  /** The file backend's directory (`PULUMI_BACKEND_URL=file://<backendDir>`). */
  backendDir: string;
  /** The passphrase file (mode 0600). */
  passphraseFile: string;
  /** `PULUMI_HOME` for this backend. */
  pulumiHome: string;
  /** The environment variables every CLI run needs (also usable with `execFile(pulumiPath, ...)`). */
  envVars: Record<string, string>;
}

/**
 * Creates a fresh, isolated engine environment: temp file backend, random passphrase, PULUMI_HOME,
 * and the offline switches. `backendDir` reuses an existing backend instead (e.g. the lab's).
 */
export function createEngineEnv(opts: { backendDir?: string; passphraseFile?: string } = {}): EngineEnv {
  const { binDir } = requireEngine();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-xen-ha-engine-"));
  const backendDir = path.resolve(opts.backendDir ?? path.join(root, "state"));
  fs.mkdirSync(backendDir, { recursive: true });
  let passphraseFile = opts.passphraseFile;
  if (!passphraseFile) {
    passphraseFile = path.join(root, "passphrase");
    fs.writeFileSync(passphraseFile, crypto.randomBytes(24).toString("base64") + "\n", { mode: 0o600 });
  }
  const pulumiHome = path.join(root, "home");
  fs.mkdirSync(pulumiHome, { recursive: true });
  const envVars: Record<string, string> = {
    PATH: [binDir, process.env.PATH ?? ""].join(path.delimiter),
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE_FILE: passphraseFile,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_HOME: pulumiHome,
  };
  return { root, backendDir, passphraseFile, pulumiHome, envVars };
}

/**
 * Makes a directory usable as a program (or inline work) dir: `node_modules` there links to this
 * repo's, because the dynamic-provider launcher resolves `@pulumi/pulumi/cmd/dynamic-provider` from
 * the program's directory and the serialized providers' `require(...)`s resolve from there too
 * (`pulumi-xen-ha` itself through the repo's `node_modules/pulumi-xen-ha -> ..` link).
 */
export function linkNodeModules(dir: string): void {
  const link = path.join(dir, "node_modules");
  if (!fs.existsSync(link)) fs.symlinkSync(path.join(repoRoot, "node_modules"), link, "dir");
}

// ---------------------------------------------------------------------------------------------
// The package as users get it

/** `npm pack` of this repository into `dir` (build first, as the npm scripts do); the tarball's path. */
export function packPackage(dir: string): string {
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const packed = JSON.parse(out) as { filename: string }[];
  return path.join(dir, packed[0]!.filename);
}

/**
 * Makes `dir` a program whose package.json depends on `dependencies` (name -> version, or
 * `file:<tarball>`) and installs them with a plain `npm install`, as a user would: a peer
 * dependency that the program's SDK does not satisfy fails here with npm's ERESOLVE, and the error
 * carries npm's output.
 */
export function installProgram(dir: string, dependencies: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, main: "index.js", dependencies }, null, 2) + "\n");
  // `npm run test:engine --force` (or --legacy-peer-deps) hands its flags down as npm_config_*
  // variables; they would let a conflicting peer dependency through.
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^npm_config_(force|legacy_peer_deps)$/i.test(key)) delete env[key];
  }
  try {
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: dir, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    const { stdout = "", stderr = "" } = e as { stdout?: string; stderr?: string };
    const tail = `${stdout}${stderr}`.trim().split("\n").slice(-40).join("\n");
    throw new Error(`npm install in ${dir} failed (${Object.entries(dependencies).map(([n, v]) => `${n}@${v}`).join(", ")}):\n${tail}`);
  }
}

/** The version of `name` installed in `dir`'s node_modules. */
export function installedVersion(dir: string, name: string): string {
  return (JSON.parse(fs.readFileSync(path.join(dir, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
}
