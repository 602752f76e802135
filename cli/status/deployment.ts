/**
 * Reading the package's resources out of a deployment as `pulumi stack export --show-secrets`
 * prints it (or as the Automation API's `stack.exportStack()` returns it). Pure: no SSH, no SDK.
 */

/** The engine's marker of a secret value (`resource.SecretSig`), and the value it carries under it. */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** One of the package's resources from the deployment, its outputs with secrets in clear. */
export interface StackResource {
  /** `NodeNetwork`, `XenDomU`, `DrbdResource`, `HeartbeatCluster`… */
  kind: string;
  /** The resource's name, the last part of its URN (`cluster-test`). */
  name: string;
  urn: string;
  outputs: Record<string, unknown>;
}

/** The deployment holds secrets that were not decrypted (exported without `--show-secrets`). */
export class EncryptedSecretsError extends Error {
  constructor(where: string) {
    super(`${where} is an encrypted secret: export the stack with --show-secrets (the connections' credentials are secrets)`);
    this.name = "EncryptedSecretsError";
  }
}

/** `{ version, deployment: { resources } }` (the CLI's export) or the inner `{ resources }`. */
export function deploymentResources(exported: unknown): unknown[] {
  const outer = asRecord(exported);
  const inner = outer && "deployment" in outer ? asRecord(outer.deployment) : outer;
  const resources = inner?.resources;
  if (resources === undefined || resources === null) return [];
  if (!Array.isArray(resources)) throw new Error("the deployment's resources is not a list: is this the output of `pulumi stack export`?");
  return resources;
}

/** The URN's type part names the dynamic resource's kind: `…$pulumi-nodejs:dynamic/xenha:XenDomU::cluster-test`. */
export function kindOfUrn(urn: string): { kind: string; name: string } | undefined {
  const parts = urn.split("::");
  if (parts.length < 4) return undefined;
  const types = parts[2]!.split("$");
  const m = /^pulumi-nodejs:dynamic\/xenha:(\w+)$/.exec(types[types.length - 1]!);
  return m ? { kind: m[1]!, name: parts.slice(3).join("::") } : undefined;
}

/** The stack's name from a URN (`urn:pulumi:lab::project::…` → `lab`). */
export function stackOfUrn(urn: string): string | undefined {
  return /^urn:pulumi:([^:]+)::/.exec(urn)?.[1];
}

/** The package's live resources (not those pending deletion), their outputs' secrets unwrapped. */
export function xenHaResources(exported: unknown): StackResource[] {
  const out: StackResource[] = [];
  for (const raw of deploymentResources(exported)) {
    const r = asRecord(raw);
    if (!r || typeof r.urn !== "string" || r.delete === true) continue;
    const kind = kindOfUrn(r.urn);
    if (!kind) continue;
    const outputs = asRecord(revealSecrets(r.outputs ?? {}, `${kind.kind} ${kind.name}`)) ?? {};
    out.push({ ...kind, urn: r.urn, outputs });
  }
  return out;
}

/**
 * Replaces each secret by its value. `--show-secrets` exports a secret as `{ SIG, plaintext }`
 * with the value's own serialization (JSON) as text, which may hold further secrets.
 */
export function revealSecrets(value: unknown, where: string): unknown {
  if (Array.isArray(value)) return value.map((v) => revealSecrets(v, where));
  const record = asRecord(value);
  if (!record) return value;
  if (record[SECRET_SIG] === SECRET_SIG_VALUE) {
    if (typeof record.plaintext === "string") return revealSecrets(JSON.parse(record.plaintext), where);
    if ("value" in record) return revealSecrets(record.value, where);
    throw new EncryptedSecretsError(`a value of ${where}`);
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, revealSecrets(v, where)]));
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
