/**
 * How many of a stack's resources talk to each host, read from its exported state: the yardstick
 * for "at most one command per resource per host". Pure.
 */

/** Pulumi's marker of a secret value in an exported deployment; with --show-secrets it carries `plaintext` (JSON text). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

interface ExportedResource {
  urn?: string;
  type?: string;
  custom?: boolean;
  inputs?: unknown;
  outputs?: unknown;
}

/**
 * For each SSH endpoint (`host:port`), the number of custom resources whose inputs or outputs
 * hold a connection to it. Providers and the stack itself are not counted.
 */
export function resourcesPerEndpoint(deployment: unknown): Map<string, number> {
  const resources = ((deployment as { resources?: ExportedResource[] } | undefined)?.resources ?? []).filter(
    (r) => r.custom === true && typeof r.type === "string" && !r.type.startsWith("pulumi:providers:"),
  );
  const counts = new Map<string, number>();
  for (const r of resources) {
    const endpoints = new Set<string>();
    collectEndpoints(r.inputs, endpoints);
    collectEndpoints(r.outputs, endpoints);
    for (const e of endpoints) counts.set(e, (counts.get(e) ?? 0) + 1);
  }
  return counts;
}

/** Every `{ host, port }` with credentials found anywhere in a value, secrets opened. */
export function collectEndpoints(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectEndpoints(v, into);
    return;
  }
  if (value === null || typeof value !== "object") return;
  const obj = value as Record<string, unknown>;
  if (obj[SECRET_SIG] !== undefined) {
    if (typeof obj.plaintext === "string") collectEndpoints(safeParse(obj.plaintext), into);
    else collectEndpoints(obj.value, into);
    return;
  }
  if (typeof obj.host === "string" && typeof obj.port === "number" && ("privateKey" in obj || "password" in obj || "user" in obj)) {
    into.add(`${obj.host}:${obj.port}`);
  }
  for (const v of Object.values(obj)) collectEndpoints(v, into);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
