/**
 * XenDomU operations on the dom0s over SSH, sequenced from the pure builders: the survey of every
 * host (one round trip each), start with the peer checked first, graceful stop, live migration and
 * the non-live move.
 */
import { buildReleaseScript } from "../drbd/commands";
import { HostCommandError, HostStateError, isHostCommandError, RefusedError } from "../errors";
import { poll } from "../poll";
import { hostOf, type Host } from "../ssh";
import { checkTargetMemory, migrationFailureHint, type HostCapabilities, type MovePlan } from "./capabilities";
import { configPath, domUConfigOf, renderDomUConfig } from "./config";
import { departingDomain, drbdStartBlocker, locateGuest, parseDomainList, parseGuestSurvey, runningHost, startBlocker, type DomainEntry, type GuestSurvey, type Whereabouts } from "./list";
import { bridgesOf, drbdResourcesOf, migrationAddressOf, type XenDomUInputs, type XenHost } from "./schema";
import { buildGuestSurveyScript, SHUTDOWN_TIMED_OUT, toolstackFor, type Toolstack } from "./toolstack";

const SURVEY_TIMEOUT_MS = 90_000;
const CREATE_TIMEOUT_MS = 10 * 60_000;

/** One dom0 of the guest, connected and surveyed. */
export interface HostView {
  spec: XenHost;
  host: Host;
  survey: GuestSurvey;
}

export type Views = Record<string, HostView>;

export function toolstackOf(inputs: Pick<XenDomUInputs, "toolstack">): Toolstack {
  return toolstackFor(inputs.toolstack);
}

export function renderedConfig(inputs: XenDomUInputs): string {
  return renderDomUConfig(domUConfigOf(inputs), inputs.toolstack);
}

/**
 * Connects to every host and surveys it, all at once. A host that cannot be reached fails the
 * whole survey: nothing about the guest can be decided while it might run there.
 */
export async function surveyHosts(inputs: XenDomUInputs, recordedKeys: Readonly<Record<string, string>> = {}): Promise<Views> {
  const toolstack = toolstackOf(inputs);
  const command = buildGuestSurveyScript(toolstack, inputs.name, configPath(inputs.name), {
    drbdResources: drbdResourcesOf(inputs),
    bridges: toolstack.kind === "xl" ? bridgesOf(inputs) : [],
  });
  const entries = await Promise.all(
    inputs.hosts.map(async (spec) => {
      const recorded = recordedKeys[spec.name];
      const host = await hostOf(spec.connection, recorded === undefined ? undefined : { observedHostKey: recorded });
      const survey = parseGuestSurvey(await host.output(command, { timeoutMs: SURVEY_TIMEOUT_MS }), inputs.name);
      return [spec.name, { spec, host, survey }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

export function whereabouts(name: string, views: Views): Whereabouts {
  return locateGuest(name, Object.fromEntries(Object.entries(views).map(([n, v]) => [n, v.survey.domains])));
}

export function capabilitiesOf(views: Views): Record<string, HostCapabilities> {
  return Object.fromEntries(Object.entries(views).map(([n, v]) => [n, v.survey.capabilities]));
}

export function hostKeysOf(views: Views): Record<string, string> {
  return Object.fromEntries(Object.entries(views).map(([n, v]) => [n, v.host.hostKey]));
}

/** Writes the config to every host whose copy differs; the same bytes everywhere. */
export async function writeConfigs(inputs: XenDomUInputs, views: Views): Promise<void> {
  const text = renderedConfig(inputs);
  await Promise.all(
    Object.values(views)
      .filter((v) => v.survey.configText !== text)
      .map((v) => v.host.writeFile(configPath(inputs.name), text, { mode: "0644" })),
  );
}

/** Refusals that a host's own survey shows before the guest is started or received there. */
function hostReadiness(inputs: XenDomUInputs, view: HostView): string[] {
  const missing = Object.entries(view.survey.bridges).filter(([, present]) => !present).map(([b]) => b);
  const problems = missing.length === 0 ? [] : [`bridge ${missing.join(", ")} does not exist on ${view.spec.name}; create it first (NodeNetwork)`];
  const memory = checkTargetMemory({ host: view.spec.name, capabilities: view.survey.capabilities }, inputs.memory);
  if (memory) problems.push(memory);
  return problems;
}

/** Whether the guest already runs on `target` (then there is nothing to start). */
export function runsOn(inputs: XenDomUInputs, views: Views, target: string): boolean {
  return runningHost(whereabouts(inputs.name, views)) === target;
}

/**
 * Why the guest must not be started on `target`, or undefined: it is listed on the peer (or the
 * peer did not answer), the peer holds one of its DRBD disks Primary, it crashed or is shutting
 * down there, or the host lacks a bridge or memory for it.
 */
export function startRefusal(inputs: XenDomUInputs, views: Views, target: string): string | undefined {
  const view = views[target];
  if (!view) return `${inputs.name}: no host named ${target}`;
  const where = whereabouts(inputs.name, views);
  if (where.where === "one" && where.host === target) {
    if (where.presence === "crashed") {
      return (
        `${inputs.name} crashed on ${target} and is kept for diagnosis (on_crash=${inputs.onCrash}, domid ${where.entry.domid ?? "?"}); ` +
        `look at it (xl dmesg, xl console), then remove it with xl destroy ${inputs.name} on ${target} and run up again.`
      );
    }
    if (where.presence === "shutting-down") return `${inputs.name} is shutting down on ${target}; run up again once xl list no longer shows it.`;
    return undefined;
  }
  const blockers = [startBlocker(inputs.name, target, where), drbdStartBlocker(inputs.name, target, view.survey.drbd), ...hostReadiness(inputs, view)].filter(
    (b): b is string => b !== undefined,
  );
  return blockers.length === 0 ? undefined : `${inputs.name} is not started on ${target}: ${blockers.join("; ")}`;
}

/** Starts the guest on `target` unless it already runs there; refused (nothing started) for any `startRefusal`. */
export async function startGuest(inputs: XenDomUInputs, views: Views, target: string): Promise<void> {
  if (runsOn(inputs, views, target)) return;
  const refusal = startRefusal(inputs, views, target);
  if (refusal) throw new RefusedError(refusal);
  await views[target]!.host.exec(toolstackOf(inputs).create(configPath(inputs.name)), {
    timeoutMs: CREATE_TIMEOUT_MS,
    hint: "see the lines above: block-drbd failing means DRBD could not promote the disk (drbdadm status), a vif hotplug failure a missing bridge",
  });
}

/**
 * Stops the guest wherever it runs: a graceful shutdown for up to shutdownTimeoutSeconds, then
 * destroy. A crashed guest kept for diagnosis is destroyed directly (it cannot shut down).
 */
export async function stopGuest(inputs: XenDomUInputs, views: Views): Promise<void> {
  const toolstack = toolstackOf(inputs);
  const where = whereabouts(inputs.name, views);
  const hosts = where.where === "one" ? [where.host] : where.where === "several" ? where.hosts : [];
  await Promise.all(
    hosts.map(async (name) => {
      const view = views[name]!;
      const domid = view.survey.domains.find((e) => e.name === inputs.name)?.domid ?? null;
      const crashed = where.where === "one" && where.presence === "crashed";
      if (!crashed) {
        const shutdown = await view.host.exec(toolstack.shutdown(inputs.name, inputs.shutdownTimeoutSeconds), {
          okExitCodes: [SHUTDOWN_TIMED_OUT],
          timeoutMs: (inputs.shutdownTimeoutSeconds + 60) * 1000,
        });
        // A guest that shut down stays listed for a moment while its backends are torn down.
        if (shutdown.exitCode === 0 && (await departed(view, toolstack, inputs.name, domid, 60_000)) === undefined) return releaseDisks(inputs, view);
      }
      await view.host.exec(toolstack.destroy(inputs.name), { timeoutMs: 120_000, okExitCodes: [1] });
      const left = await departed(view, toolstack, inputs.name, domid, 120_000);
      if (left) throw new HostStateError(stillListed(inputs.name, name, left));
      await releaseDisks(inputs, view);
    }),
  );
}

function stillListed(guest: string, host: string, entry: DomainEntry): string {
  if (entry.state.dying) {
    return (
      `${guest} was destroyed on ${host} but Xen still lists it as dying (domid ${entry.domid}, "${entry.name}" in xl list): dom0 has not let go of its memory, ` +
      `usually a disk backend waiting for I/O to end, and its disks stay open. Look at dmesg on ${host} (blkback, DRBD); a reboot of ${host} clears it. Run the command again once the domain is gone.`
    );
  }
  return `${guest} is still listed on ${host} after shutdown and destroy (domid ${entry.domid}); look at xl list there and run the command again.`;
}

/** The guest has left this host: none of its DRBD disks may stay Primary here, or the peer could not start it. */
async function releaseDisks(inputs: XenDomUInputs, view: HostView): Promise<void> {
  const resources = drbdResourcesOf(inputs);
  if (resources.length > 0) await view.host.exec(buildReleaseScript(resources, 30), { timeoutMs: 120_000 });
}

/**
 * Waits until the domain is gone from the host's list, by name and by its domid (a dying domain
 * keeps its disks open after its name is gone); the entry still listed at the deadline, if any.
 */
async function departed(view: HostView, toolstack: Toolstack, name: string, domid: number | null, timeoutMs: number): Promise<DomainEntry | undefined> {
  const listed = async () => departingDomain(parseDomainList(await view.host.output(toolstack.list(), { timeoutMs: 60_000 })), name, domid);
  return (await poll(listed, (left) => left === undefined, { timeoutMs, intervalMs: 2000 })).value;
}

/**
 * Moves the running guest from `source` to `target` over the crossover link: `xl migrate` when
 * the plan is live, else save, copy and restore (the guest pauses). On any failure the guest is
 * left running where it was, and the error says so.
 */
export async function moveGuest(inputs: XenDomUInputs, plan: Exclude<MovePlan, { kind: "refused" }>, source: HostView, target: HostView): Promise<void> {
  const toolstack = toolstackOf(inputs);
  const problems = [...hostReadiness(inputs, target), ...target.survey.drbd.filter((r) => r.error !== undefined).map((r) => `DRBD resource ${r.resource} is not up on ${target.spec.name} (${r.error})`)];
  if (toolstack.kind === "xl" && !source.survey.migrationKey) {
    problems.push(`${source.spec.name} has no migration key: set up root SSH between the dom0s first (XenMigrationTrust)`);
  }
  if (problems.length > 0) throw new RefusedError(`${inputs.name} stays on ${source.spec.name}: ${problems.join("; ")}`);
  const address = migrationAddressOf(target.spec);
  const timeoutMs = inputs.migrationTimeoutSeconds * 1000;
  if (plan.kind === "live") {
    await withMigrationHint(() => source.host.exec(toolstack.migrate(inputs.name, { address }), { timeoutMs }));
    return;
  }
  const move = toolstack.nonLiveMove(inputs.name, { address });
  const on = (side: "source" | "target") => (side === "source" ? source : target).host;
  // The saved image is the guest's only copy between save and restore: it is removed only once
  // the guest runs again somewhere.
  let imageNeeded = false;
  try {
    for (const [i, step] of move.steps.entries()) {
      try {
        await withMigrationHint(() => on(step.on).exec(step.command, { timeoutMs }));
      } catch (err) {
        if (i === 0 || !move.recovery) throw err;
        const recovery = move.recovery;
        await source.host.exec(recovery, { timeoutMs }).catch((recoveryError: unknown) => {
          imageNeeded = true;
          throw new HostStateError(
            `${inputs.name}: ${step.description} failed (${err instanceof Error ? err.message : String(err)}), and resuming it on ${source.spec.name} failed too ` +
              `(${recoveryError instanceof Error ? recoveryError.message : String(recoveryError)}); it is suspended in its saved image: resume it by hand with ${recovery.display} on ${source.spec.name}.`,
            { cause: err },
          );
        });
        throw err;
      }
    }
  } finally {
    if (move.cleanup && !imageNeeded) {
      const cleanup = move.cleanup;
      await Promise.all([source.host.exec(cleanup).catch(() => undefined), target.host.exec(cleanup).catch(() => undefined)]);
    }
  }
}

async function withMigrationHint<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!isHostCommandError(err)) throw err;
    const hint = migrationFailureHint(err.stderr) ?? err.hint;
    throw new HostCommandError({ host: err.host, command: err.command, exitCode: err.exitCode, signal: err.signal, stdout: err.stdout, stderr: err.stderr, hint }, { cause: err });
  }
}

/** Brings memory and vCPUs of the running guest to the inputs where Xen allows it. */
export async function applyLive(inputs: XenDomUInputs, view: HostView, plan: { memSet?: number; vcpuSet?: number }): Promise<void> {
  const toolstack = toolstackOf(inputs);
  if (plan.memSet !== undefined) await view.host.exec(toolstack.memSet(inputs.name, plan.memSet), { timeoutMs: 120_000 });
  if (plan.vcpuSet !== undefined) await view.host.exec(toolstack.vcpuSet(inputs.name, plan.vcpuSet), { timeoutMs: 120_000 });
}
