import * as pulumi from "@pulumi/pulumi";
import type { DeepInput } from "../args";
import { isHostKeyMismatchError, RefusedError } from "../errors";
import { checkWith, diffWith, PartialCreateError, type Lifecycle, type Props } from "../lifecycle";
import { holdsDrift, refreshedInputs } from "../refreshed-inputs";
import { secretInput } from "../secret-input";
import { providerFor } from "../shim";
import { hostOf, type Host } from "../ssh";
import {
  AUTHORIZED_KEYS_PATH,
  MIGRATION_GATE_PATH,
  MIGRATION_KNOWN_HOSTS_PATH,
  buildMigrationKeysCommand,
  buildRemoveTrustFilesCommand,
  buildTrustProbeCommand,
  buildTrustSurveyCommand,
  mergeAuthorizedKeys,
  parseMigrationKeys,
  parseTrustSurvey,
  removeFromAuthorizedKeys,
  renderAuthorizedKeysLine,
  renderKnownHosts,
  renderMigrationGate,
  trustDrift,
  xenMigrationTrustSchema,
  type MigrationKeys,
  type XenMigrationTrustInputs,
} from "./migration";
import { migrationAddressOf, type XenHost, type XenHostInput } from "./schema";

export interface XenMigrationTrustArgs {
  /** The cluster's two dom0s, each with its SSH connection and crossover address (and crossover name, if /etc/hosts has one). */
  hosts: pulumi.Input<DeepInput<XenHostInput>[]>;
}

/**
 * Root SSH between the two dom0s over the crossover link, for `xl migrate` and the peer checks of
 * Heartbeat's resource scripts: a key pair per dom0, the peer's host key pinned in a known_hosts of
 * our own, and the peer's key let in only from its crossover address and only through a forced
 * command that passes `xl migrate-receive`, `xl list NAME`, `drbdadm role RES` and saved-image
 * copies. Needed once per cluster; `migrationSshCommand()` is the ssh that uses it.
 */
export class XenMigrationTrust extends pulumi.dynamic.Resource {
  /** Each dom0's public migration key, by host name. */
  declare readonly migrationKeys: pulumi.Output<Record<string, string>>;
  /** Each dom0's host key as pinned on its peer, by host name. */
  declare readonly hostKeys: pulumi.Output<Record<string, string>>;
  /** Files that differed from what they should be when last read, by host name (empty when in sync). */
  declare readonly drift: pulumi.Output<Record<string, string[]>>;
  declare readonly observedHostKeys: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: XenMigrationTrustArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("XenMigrationTrust"),
      name,
      { ...args, hosts: secretInput(args.hosts), migrationKeys: undefined, hostKeys: undefined, drift: undefined, observedHostKeys: undefined },
      { ...opts, additionalSecretOutputs: ["hosts"] },
      "xenha",
      "XenMigrationTrust",
    );
  }
}

// Any change re-establishes the trust in place: every step is idempotent.
const spec = {
  typeName: "XenMigrationTrust",
  schema: xenMigrationTrustSchema,
  // Keys or files changed on a host show as a `drift` property, which the next up rewrites away.
  rules: { hosts: "update", drift: (before: unknown) => (holdsDrift(before) ? "update" : undefined) },
} as const;

interface Side {
  spec: XenHost;
  host: Host;
}

async function connectBoth(inputs: XenMigrationTrustInputs, props?: Props): Promise<[Side, Side]> {
  const recorded = (props?.observedHostKeys ?? {}) as Record<string, string>;
  const sides = await Promise.all(
    inputs.hosts.map(async (h) => ({ spec: h, host: await hostOf(h.connection, recorded[h.name] ? { observedHostKey: recorded[h.name] } : undefined) })),
  );
  return [sides[0]!, sides[1]!];
}

/** What `side` must hold to let `peer` in, and to reach it. */
function expectedFor(peer: Side, peerKeys: MigrationKeys) {
  return {
    authorizedLine: renderAuthorizedKeysLine(peerKeys.migrationKey, peer.spec.crossoverAddress),
    knownHosts: renderKnownHosts({ crossoverAddress: peer.spec.crossoverAddress, crossoverName: peer.spec.crossoverName, hostKey: peerKeys.hostKey }),
  };
}

async function install(side: Side, peer: Side, peerKeys: MigrationKeys): Promise<void> {
  const expected = expectedFor(peer, peerKeys);
  await side.host.writeFile(MIGRATION_GATE_PATH, renderMigrationGate(), { mode: "0755" });
  await side.host.writeFile(MIGRATION_KNOWN_HOSTS_PATH, expected.knownHosts, { mode: "0644" });
  const existing = (await side.host.readFile(AUTHORIZED_KEYS_PATH)) ?? "";
  const merged = mergeAuthorizedKeys(existing, expected.authorizedLine);
  if (merged !== existing) await side.host.writeFile(AUTHORIZED_KEYS_PATH, merged, { mode: "0600" });
}

/** Each side asks its peer, through the gate, for `xl list Domain-0`: key, pin, from= and gate in one go. */
async function verify(side: Side, peer: Side): Promise<void> {
  const address = migrationAddressOf(peer.spec);
  await side.host.exec(buildTrustProbeCommand(address), {
    timeoutMs: 60_000,
    hint: `${side.spec.name} could not run xl list through ${peer.spec.name}'s gate at ${address}: check that the crossover link is up, that ${address} reaches ${peer.spec.name} (and ${side.spec.name}'s crossover source address is ${side.spec.crossoverAddress}), and that sshd there permits root logins with a key (PermitRootLogin prohibit-password)`,
  });
}

async function establish(inputs: XenMigrationTrustInputs, props?: Props): Promise<Props> {
  const [a, b] = await connectBoth(inputs, props);
  const [keysA, keysB] = await Promise.all([a, b].map(async (s) => parseMigrationKeys(await s.host.output(buildMigrationKeysCommand(s.spec.name)))));
  await Promise.all([install(a, b, keysB!), install(b, a, keysA!)]);
  await Promise.all([verify(a, b), verify(b, a)]);
  return outputs(inputs, [a, b], { [a.spec.name]: keysA!, [b.spec.name]: keysB! }, { [a.spec.name]: [], [b.spec.name]: [] });
}

function outputs(inputs: XenMigrationTrustInputs, sides: Side[], keys: Record<string, MigrationKeys>, drift: Record<string, string[]>): Props {
  return {
    ...inputs,
    migrationKeys: Object.fromEntries(Object.entries(keys).map(([n, k]) => [n, k.migrationKey])),
    hostKeys: Object.fromEntries(Object.entries(keys).map(([n, k]) => [n, k.hostKey])),
    drift,
    observedHostKeys: Object.fromEntries(sides.map((s) => [s.spec.name, s.host.hostKey])),
  };
}

export const xenMigrationTrustLifecycle: Lifecycle = {
  check: async (olds, news) => checkWith(spec, olds, news),
  refreshedInputs: (props) => refreshedInputs(spec.schema, props, ["drift"]),

  diff: async (_id, olds, news) => diffWith(spec, olds, news),

  async create(raw) {
    const inputs = xenMigrationTrustSchema.parse(raw);
    const id = `migration-trust@${inputs.hosts.map((h) => h.name).join(",")}`;
    try {
      return { id, outs: await establish(inputs) };
    } catch (err) {
      // Keys may be written on one host already: recorded, the next up finishes and a destroy removes them.
      if (isHostKeyMismatchError(err)) throw err;
      throw new PartialCreateError(id, { ...inputs }, err);
    }
  },

  async read(id, props) {
    const inputs = xenMigrationTrustSchema.parse(props);
    const sides = await connectBoth(inputs, props);
    const surveys = await Promise.all(sides.map(async (s) => parseTrustSurvey(await s.host.output(buildTrustSurveyCommand()))));
    if (surveys.every((s) => !s.migrationKey && s.authorizedLines.length === 0 && s.knownHosts === "" && !s.gateSha256)) return {};
    // A key that is gone reads as drift; the recorded host keys stand in for the pin until the next up.
    const recordedHostKeys = (props.hostKeys ?? {}) as Record<string, string>;
    const keys: Record<string, MigrationKeys> = Object.fromEntries(
      sides.map((s, i) => [s.spec.name, { migrationKey: surveys[i]!.migrationKey ?? "", hostKey: recordedHostKeys[s.spec.name] ?? "" }]),
    );
    const drift = Object.fromEntries(
      sides.map((s, i) => {
        const peer = sides[1 - i]!;
        const peerKeys = keys[peer.spec.name]!;
        if (!peerKeys.migrationKey || !peerKeys.hostKey) return [s.spec.name, ["peer's migration key"]];
        return [s.spec.name, trustDrift(surveys[i]!, expectedFor(peer, peerKeys))];
      }),
    );
    return { id, props: { ...props, ...outputs(inputs, sides, keys, drift) } };
  },

  async update(_id, olds, news) {
    const inputs = xenMigrationTrustSchema.parse(news);
    const before = xenMigrationTrustSchema.parse(olds);
    const renamed = before.hosts.some((h) => !inputs.hosts.some((n) => n.name === h.name));
    if (renamed) throw new RefusedError("XenMigrationTrust: the hosts' names changed; replace the resource (pulumi up --replace) so the old hosts' keys are removed.");
    return { outs: await establish(inputs, olds) };
  },

  async delete(_id, props) {
    const inputs = xenMigrationTrustSchema.parse(props);
    const sides = await connectBoth(inputs, props);
    await Promise.all(
      sides.map(async (s) => {
        const existing = await s.host.readFile(AUTHORIZED_KEYS_PATH);
        if (existing !== undefined) {
          const kept = removeFromAuthorizedKeys(existing);
          if (kept !== existing) await s.host.writeFile(AUTHORIZED_KEYS_PATH, kept, { mode: "0600" });
        }
        await s.host.exec(buildRemoveTrustFilesCommand());
      }),
    );
  },
};
