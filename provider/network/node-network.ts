import * as pulumi from "@pulumi/pulumi";
import type { ArgsOf } from "../args";
import { RefusedError } from "../errors";
import { checkWith, diffWith, PartialCreateError, type Lifecycle, type Props } from "../lifecycle";
import { refreshedInputs } from "../refreshed-inputs";
import { pollUntil } from "../poll";
import { secretInput } from "../secret-input";
import { providerFor } from "../shim";
import { hostOf, type Host } from "../ssh";
import { describeHost } from "../ssh/connection";
import { buildConfirmJobCommand, buildJobStatusCommand, buildStartJobCommand, jobFiles, parseJobStatus, renderInterfacesApplyScript, type JobStatus } from "./apply";
import { buildNetworkProbeScript, desiredFiles, networkDrift, observedAddresses, parseNetworkProbe, type Drift, type NetworkProbe } from "./probe";
import { buildNtpServiceScript, buildSetHostnameCommand, ntpConfigPath, ntpServiceOf, paths } from "./render";
import { checkConnectionAddressKept, nodeNetworkRules, planInterfacesApply, validateNodeNetworkChange, type InterfacesApply } from "./rules";
import { nodeNetworkSchema, type NodeNetworkInputArgs, type NodeNetworkInputs } from "./schema";

/** Inputs of one node's network, with the seed's values as defaults (see the schema's field docs). */
export type NodeNetworkArgs = ArgsOf<NodeNetworkInputArgs>;

/**
 * One node's network as the seed sets it up: the public and crossover links with static addresses
 * (the public address on the guests' bridge, which `xl` needs), /etc/hosts with both nodes and
 * the crossover aliases, the FQDN in /etc/hostname and as the running host name, time kept with
 * the peer, and the loop module's option.
 *
 * New interface settings are applied by a job on the node that outlives a dropped SSH session
 * and puts the old settings back unless the provider confirms it still reaches the node. A change
 * that would take away the address the provider connects through is refused (in preview) unless
 * `allowManagementAddressChange` is set.
 *
 * Deleting this resource leaves the node's network as it is: taking the links down would cut the
 * cluster (and perhaps the provider) off. Remove the files by hand if the node leaves the cluster.
 */
export class NodeNetwork extends pulumi.dynamic.Resource {
  declare readonly hostname: pulumi.Output<string>;
  /** The interface that carries the public address: the bridge when there is one. */
  declare readonly publicInterface: pulumi.Output<string>;
  /** The node's own address the provider's SSH session arrives at, and its interface. */
  declare readonly sessionAddress: pulumi.Output<string>;
  declare readonly sessionInterface: pulumi.Output<string>;
  /** Where the node differed from the inputs when last read; the next up corrects it. */
  declare readonly drift: pulumi.Output<Drift[]>;
  declare readonly observedHostKey: pulumi.Output<string>;

  constructor(name: string, args: NodeNetworkArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("NodeNetwork"),
      name,
      { ...args, connection: secretInput(args.connection), publicInterface: undefined, sessionAddress: undefined, sessionInterface: undefined, drift: undefined, observedHostKey: undefined },
      { ...opts, additionalSecretOutputs: ["connection"] },
      "xenha",
      "NodeNetwork",
    );
  }
}

const spec = {
  typeName: "NodeNetwork",
  schema: nodeNetworkSchema,
  rules: {
    ...nodeNetworkRules,
    // What read found changed behind our back is put right on the next up.
    drift: (before: unknown) => (Array.isArray(before) && before.length > 0 ? "update" : undefined),
  },
  validateChange: validateNodeNetworkChange,
} as const;

const JOB_APPLIED_TIMEOUT_MS = 5 * 60_000;
const STATUS_TIMEOUT_MS = 20_000;

async function survey(host: Host): Promise<NetworkProbe> {
  return parseNetworkProbe(await host.output(buildNetworkProbeScript()));
}

function sessionInterfaceOf(probe: NetworkProbe): string {
  return observedAddresses(probe.links).find((a) => a.address === probe.sessionAddress)?.device ?? "";
}

function outputsFrom(inputs: NodeNetworkInputs, host: Host, probe: NetworkProbe): Props {
  return {
    ...inputs,
    publicInterface: inputs.public.bridge ?? inputs.public.device,
    sessionAddress: probe.sessionAddress,
    sessionInterface: sessionInterfaceOf(probe),
    drift: networkDrift(inputs, probe),
    observedHostKey: host.hostKey,
  };
}

/** Refuses settings that would reconfigure the interface the provider reaches the node through without its address. */
function refuseCuttingTheSession(name: string, inputs: NodeNetworkInputs, observed: { device: string; address: string }[], addresses: string[]): void {
  for (const address of new Set(addresses.filter((a) => a !== ""))) {
    const failure = checkConnectionAddressKept(address, observed, inputs);
    if (failure) throw new RefusedError(`${name}: ${failure.property}: ${failure.reason}`);
  }
}

/**
 * Runs the interfaces job and waits for its outcome. The status is read through `reach`, which
 * reconnects when the session dropped; with a confirmation window, the confirmation goes through
 * `reach` too, so it proves the provider reaches the node with the new settings.
 */
async function runInterfacesJob(host: Host, apply: InterfacesApply, reach: () => Promise<Host>): Promise<void> {
  const { plan } = apply;
  for (const upload of apply.uploads) await host.writeFile(upload.staged, upload.content, { mode: "0644" });
  await host.writeFile(jobFiles(plan.jobId).script, renderInterfacesApplyScript(plan), { mode: "0700" });
  await host.exec(buildStartJobCommand(plan.jobId));
  const statusOf = async (): Promise<JobStatus> => {
    const current = await reach();
    try {
      return parseJobStatus(await current.output(buildJobStatusCommand(plan.jobId), { timeoutMs: STATUS_TIMEOUT_MS }));
    } catch (err) {
      // A session that stopped answering is dropped, so the next attempt dials again.
      current.close();
      return { phase: "pending", reason: err instanceof Error ? err.message : String(err), log: "" };
    }
  };
  const settled = (s: JobStatus) => ["applied", "confirmed", "rolled-back"].includes(s.phase);
  const describe = (s: JobStatus) => `${s.phase}${s.reason ? `: ${s.reason}` : ""}`;
  let status = await pollUntil(statusOf, settled, { timeoutMs: JOB_APPLIED_TIMEOUT_MS, intervalMs: 1000, what: `${host.name} to apply the interface settings` }, describe);
  if (status.phase === "applied" && plan.confirmSeconds > 0) {
    await (await reach()).exec(buildConfirmJobCommand(plan.jobId), { timeoutMs: STATUS_TIMEOUT_MS });
    status = await pollUntil(statusOf, (s) => s.phase === "confirmed" || s.phase === "rolled-back", {
      timeoutMs: (plan.confirmSeconds + 60) * 1000,
      intervalMs: 1000,
      what: `${host.name} to take the confirmation`,
    }, describe);
  }
  if (status.phase === "rolled-back") {
    throw new Error(`${host.name}: the new interface settings did not hold and the node restored its previous ones (${status.reason}). The job's log:\n${status.log}`);
  }
}

/**
 * Brings the node to the inputs from what it has now: files first (so the new host name
 * resolves), then the running host name, the interfaces, and the time daemon.
 */
async function converge(host: Host, inputs: NodeNetworkInputs, probe: NetworkProbe, reach: () => Promise<Host>): Promise<void> {
  const changed = desiredFiles(inputs, probe).filter((f) => probe.files[f.path] !== f.content);
  for (const file of changed) await host.writeFile(file.path, file.content, { mode: "0644" });
  if (probe.hostname !== inputs.hostname) await host.exec(buildSetHostnameCommand(inputs.hostname));
  const apply = planInterfacesApply({
    after: inputs,
    liveMain: probe.files[paths.interfaces] ?? "",
    liveDropIn: probe.files[paths.interfacesDropIn] ?? null,
    jobId: `net-${Date.now().toString(36)}`,
    running: probe,
  });
  if (apply) await runInterfacesJob(host, apply, reach);
  const ntpChanged = changed.some((f) => f.path === ntpConfigPath(inputs.ntp.daemon));
  const service = probe.services[ntpServiceOf(inputs.ntp.daemon).service];
  if (ntpChanged || service?.active !== "active" || service.enabled !== "enabled") {
    await host.exec(buildNtpServiceScript(inputs.ntp.daemon, ntpChanged ? "restart" : "start"), {
      hint: `${ntpServiceOf(inputs.ntp.daemon).packageName} must be installable (a reachable package mirror) or already installed`,
    });
  }
}

export const nodeNetworkLifecycle: Lifecycle = {
  check: async (olds, news) => checkWith(spec, olds, news),
  refreshedInputs: (props) => refreshedInputs(spec.schema, props, ["drift"]),

  async diff(_id, olds, news) {
    const result = diffWith(spec, olds, news);
    // The session's own address, as recorded when the node was last read: a change that would
    // reconfigure its interface without it is refused here, so preview already says so.
    const after = nodeNetworkSchema.safeParse(news);
    const address = typeof olds.sessionAddress === "string" ? olds.sessionAddress : "";
    const device = typeof olds.sessionInterface === "string" ? olds.sessionInterface : "";
    if (result.changes && after.success && address && device) {
      refuseCuttingTheSession(describeHost(after.data.connection), after.data, [{ device, address }], [address]);
    }
    return result;
  },

  async create(raw) {
    const inputs = nodeNetworkSchema.parse(raw);
    const host = await hostOf(inputs.connection);
    const probe = await survey(host);
    refuseCuttingTheSession(host.name, inputs, observedAddresses(probe.links), [inputs.connection.host, probe.sessionAddress]);
    const id = `${describeHost(inputs.connection)}/network`;
    const reach = () => hostOf(inputs.connection, { observedHostKey: host.hostKey });
    try {
      await converge(host, inputs, probe, reach);
    } catch (err) {
      if (err instanceof RefusedError) throw err;
      const now = await reach().then(survey).catch(() => probe);
      throw new PartialCreateError(id, outputsFrom(inputs, host, now), err);
    }
    return { id, outs: outputsFrom(inputs, host, await survey(await reach())) };
  },

  async read(id, props) {
    const inputs = nodeNetworkSchema.parse(props);
    const host = await hostOf(inputs.connection, props);
    return { id, props: { ...props, ...outputsFrom(inputs, host, await survey(host)) } };
  },

  async update(_id, olds, news) {
    const before = nodeNetworkSchema.parse(olds);
    const inputs = nodeNetworkSchema.parse(news);
    // Applied through the address the provider knows works; confirmed through the new one.
    const host = await hostOf(before.connection, olds);
    const probe = await survey(host);
    refuseCuttingTheSession(host.name, inputs, observedAddresses(probe.links), [before.connection.host, probe.sessionAddress]);
    // The same machine at another address presents the same host key: the recorded one holds.
    const reach = () => hostOf(inputs.connection, olds);
    await converge(host, inputs, probe, reach);
    const current = await reach();
    return { outs: { ...olds, ...outputsFrom(inputs, current, await survey(current)) } };
  },

  async delete() {
    // The network stays: see the class's doc comment.
  },
};
