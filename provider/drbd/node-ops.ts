/** DRBD operations on one node over SSH, built from the pure command builders. */
import { RefusedError } from "../errors";
import type { Host } from "../ssh";
import { connect } from "../ssh/pool";
import {
  buildCheckConfigScript,
  buildDeviceSizesScript,
  buildMetadataProbeCommand,
  buildStatusProbeScript,
  buildKeepCopyCommand,
  buildPlaceUnlessPresentCommand,
  buildVolumeContentProbeScript,
  candidatePaths,
} from "./commands";
import { GLOBAL_COMMON_PATH, MAIN_CONFIG_PATH, globalSettingsOf, includesOurFiles, renderGlobalCommon, renderMainConfig, renderResource, resourceConfigPath } from "./render";
import { resourceBlocksOf, SAVED_MAIN_CONFIG_PATH } from "./main-config";
import { checkMetaVolumeSize, minorOf, type DrbdNodeInputs, type DrbdResourceInputs } from "./schema";
import { parseConfigCheck } from "./config-check";
import { parseMetadataProbe, type MetadataProbe } from "./metadata";
import { parseStatusProbe, type NodeProbe } from "./status-probe";
import { parseDeviceSizes, parseVolumeContent, type VolumeContent } from "./volume-probe";

export interface DrbdNode {
  spec: DrbdNodeInputs;
  host: Host;
}

/** Both nodes' connections, each held to its pinned key or the key recorded in state. */
export async function connectNodes(r: DrbdResourceInputs, recordedKeys: Readonly<Record<string, string>> = {}): Promise<DrbdNode[]> {
  return Promise.all(r.nodes.map(async (spec) => ({ spec, host: await connect(spec.connection, recordedKeys[spec.hostname]) })));
}

export async function probeNode(r: DrbdResourceInputs, node: DrbdNode): Promise<NodeProbe> {
  const out = await node.host.output(buildStatusProbeScript(r.name, node.spec.device), { timeoutMs: 60_000 });
  return parseStatusProbe(out, { name: r.name, minor: minorOf(node.spec.device) });
}

/** Everything that can be known before a change, refused with the reason before anything is written. */
export async function checkPreconditions(node: DrbdNode, probe: NodeProbe): Promise<void> {
  const where = `${node.host.name} (${node.spec.hostname})`;
  if (probe.nodename !== node.spec.hostname) {
    throw new RefusedError(
      `${where}: the node calls itself "${probe.nodename}" (uname -n), but DRBD matches the "on ${node.spec.hostname}" section by that name; set the node's hostname input to "${probe.nodename}" or give the host its name first (NodeNetwork).`,
    );
  }
  if (probe.minorTaken) throw new RefusedError(`${where}: ${node.spec.device} is already used by another DRBD resource; choose another device minor.`);
  const devices = [node.spec.disk, ...(node.spec.metaDisk === "internal" ? [] : [node.spec.metaDisk.device])];
  const sizes = parseDeviceSizes(await node.host.output(buildDeviceSizesScript(devices)));
  for (const device of devices) {
    if (sizes.get(device) === undefined) throw new RefusedError(`${where}: ${device} does not exist; create the volume first (LogicalVolume).`);
  }
  if (node.spec.metaDisk !== "internal") {
    const check = checkMetaVolumeSize(sizes.get(node.spec.metaDisk.device) ?? 0, node.spec.metaDisk);
    if (!check.ok) throw new RefusedError(`${where}: ${check.reason}`);
    // create-md writes over stale bytes in an external index, so the volume must be DRBD's alone.
    const content = parseVolumeContent(await node.host.output(buildVolumeContentProbeScript(node.spec.metaDisk.device)));
    if (content.signature) {
      throw new RefusedError(
        `${where}: ${node.spec.metaDisk.device} holds a ${content.signature} signature, so it is not a volume set aside for DRBD meta-data; point metaDisk at a dedicated volume (the seed's /dev/vg/meta).`,
      );
    }
  }
}

/** Runs drbdadm's own parser over the files as they would be installed; its errors come back verbatim. */
export async function validateConfig(r: DrbdResourceInputs, node: DrbdNode): Promise<void> {
  const candidates = candidatePaths(r.name);
  await node.host.writeFile(candidates.resource, renderResource(r), { mode: "0644" });
  await node.host.writeFile(candidates.globalCommon, renderGlobalCommon(globalSettingsOf(r)), { mode: "0644" });
  const outcome = await node.host.exec(buildCheckConfigScript(r.name, candidates), { okExitCodes: "any" });
  const verdict = parseConfigCheck(outcome, r.name, { [candidates.resource]: resourceConfigPath(r.name), [candidates.globalCommon]: GLOBAL_COMMON_PATH });
  if (!verdict.ok) {
    throw new RefusedError(`${node.host.name} (${node.spec.hostname}): drbdadm rejects the configuration of ${r.name}; nothing was installed:\n${verdict.errors.join("\n")}`);
  }
}

export async function installConfig(r: DrbdResourceInputs, node: DrbdNode): Promise<void> {
  await node.host.writeFile(GLOBAL_COMMON_PATH, renderGlobalCommon(globalSettingsOf(r)), { mode: "0644" });
  await node.host.writeFile(resourceConfigPath(r.name), renderResource(r), { mode: "0644" });
  const main = await node.host.readFile(MAIN_CONFIG_PATH);
  if (main !== undefined && !includesOurFiles(main)) await moveResourcesOutOf(main, r.name, node);
  if (main === undefined || !includesOurFiles(main)) await node.host.writeFile(MAIN_CONFIG_PATH, renderMainConfig(), { mode: "0644" });
}

/**
 * Before a hand-written /etc/drbd.conf gives way to the include form, every resource it defines
 * but this one goes as written into its own file (unless that file exists: another resource of
 * the program may be taking it over at the same time), and the file is kept as it was.
 */
async function moveResourcesOutOf(main: string, name: string, node: DrbdNode): Promise<void> {
  for (const block of resourceBlocksOf(main).filter((b) => b.name !== name)) {
    const target = resourceConfigPath(block.name);
    const staged = `${target}.pulumi-split`;
    await node.host.writeFile(staged, `# Moved here as written from ${MAIN_CONFIG_PATH} (kept as ${SAVED_MAIN_CONFIG_PATH}).\n${block.text}`, { mode: "0644" });
    await node.host.exec(buildPlaceUnlessPresentCommand(staged, target));
  }
  await node.host.exec(buildKeepCopyCommand(MAIN_CONFIG_PATH, SAVED_MAIN_CONFIG_PATH));
}

export async function probeMetadata(node: DrbdNode): Promise<MetadataProbe> {
  const outcome = await node.host.exec(buildMetadataProbeCommand(node.spec), { okExitCodes: "any" });
  try {
    return parseMetadataProbe(outcome);
  } catch (err) {
    throw new RefusedError(`${node.host.name} (${node.spec.hostname}): ${(err as Error).message}`);
  }
}

export async function probeVolumeContent(node: DrbdNode): Promise<VolumeContent> {
  return parseVolumeContent(await node.host.output(buildVolumeContentProbeScript(node.spec.disk)));
}

export async function backingSizes(node: DrbdNode): Promise<number | undefined> {
  return parseDeviceSizes(await node.host.output(buildDeviceSizesScript([node.spec.disk]))).get(node.spec.disk);
}
