import * as pulumi from "@pulumi/pulumi";
import type { Classifier } from "../diff";
import { RefusedError } from "../errors";
import { checkWith, connectionRule, diffWith, type Lifecycle, type Props } from "../lifecycle";
import { providerFor } from "../shim";
import { hostOf, type Host } from "../ssh";
import type { ConnectionInput } from "../ssh/connection";
import { describeHost } from "../ssh/connection";
import { buildCreateLogicalVolumeCommand, buildExtendLogicalVolumeCommand, buildRemoveLogicalVolumeCommand, buildZeroVolumeCommand } from "./commands";
import { logicalVolumeSchema, type LogicalVolumeInputs } from "./schema";
import { DEFAULT_EXTENT_BYTES, formatBytes, parseSize, roundUpToExtent } from "./size";
import { surveyLvm, type LvmSurvey } from "./survey";

export interface LogicalVolumeArgs {
  /** How to reach the host over SSH. */
  connection: pulumi.Input<ConnectionInput>;
  /** Volume group that holds it. */
  volumeGroup: pulumi.Input<string>;
  /** Volume name, such as the seed's `test-disk`. */
  name: pulumi.Input<string>;
  /** Size in binary units as `lvcreate -L` takes it ("5G", "384M") or bytes. Growing is online; shrinking is refused. */
  size: pulumi.Input<string | number>;
  /** Zero the whole volume when it is created here (for DRBD's meta-data volume). Default false. */
  zeroOnCreate?: pulumi.Input<boolean>;
}

/** An LVM logical volume. An existing volume of the same name is adopted, never recreated. */
export class LogicalVolume extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly volumeGroup: pulumi.Output<string>;
  /** Device path, `/dev/VG/NAME`. */
  declare readonly path: pulumi.Output<string>;
  /** Allocated size in bytes (whole extents). */
  declare readonly sizeBytes: pulumi.Output<number>;
  declare readonly observedHostKey: pulumi.Output<string>;

  constructor(name: string, args: LogicalVolumeArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("LogicalVolume"),
      name,
      { ...args, path: undefined, sizeBytes: undefined, observedHostKey: undefined },
      { ...opts, additionalSecretOutputs: ["connection"] },
      "xenha",
      "LogicalVolume",
    );
  }
}

/** "5G" and "5120M" are the same volume; so is any request that rounds up to the same extents. */
const sizeRule: Classifier = (before, after) => {
  const a = parseSize(before as string | number);
  const b = parseSize(after as string | number);
  if (a === undefined || b === undefined) return before === after ? undefined : "update";
  return roundUpToExtent(a, DEFAULT_EXTENT_BYTES) === roundUpToExtent(b, DEFAULT_EXTENT_BYTES) ? undefined : "update";
};

const spec = {
  typeName: "LogicalVolume",
  schema: logicalVolumeSchema,
  rules: { connection: connectionRule, volumeGroup: "replace", name: "replace", size: sizeRule, zeroOnCreate: "update" },
  validateChange: (olds: LogicalVolumeInputs, news: LogicalVolumeInputs) => {
    const before = parseSize(olds.size) ?? 0;
    const after = parseSize(news.size) ?? 0;
    return roundUpToExtent(after, DEFAULT_EXTENT_BYTES) < roundUpToExtent(before, DEFAULT_EXTENT_BYTES)
      ? [{ property: "size", reason: `shrinking ${formatBytes(before)} to ${formatBytes(after)} would destroy the data at the end of the volume; shrink the filesystem and the volume by hand if you mean it, then set size to match` }]
      : [];
  },
} as const;

function find(survey: LvmSurvey, inputs: LogicalVolumeInputs) {
  return survey.logicalVolumes.find((l) => l.volumeGroup === inputs.volumeGroup && l.name === inputs.name);
}

function outputs(inputs: LogicalVolumeInputs, host: Host, survey: LvmSurvey): Props {
  const lv = find(survey, inputs);
  return { ...inputs, path: lv?.path ?? `/dev/${inputs.volumeGroup}/${inputs.name}`, sizeBytes: lv?.sizeBytes ?? 0, observedHostKey: host.hostKey };
}

function extentOf(survey: LvmSurvey, inputs: LogicalVolumeInputs): number {
  return survey.volumeGroups.find((g) => g.name === inputs.volumeGroup)?.extentBytes || DEFAULT_EXTENT_BYTES;
}

async function grow(host: Host, inputs: LogicalVolumeInputs, survey: LvmSurvey): Promise<void> {
  const lv = find(survey, inputs);
  const wanted = roundUpToExtent(parseSize(inputs.size) ?? 0, extentOf(survey, inputs));
  if (!lv || wanted === lv.sizeBytes) return;
  if (wanted < lv.sizeBytes) {
    throw new RefusedError(
      `${host.name}: ${lv.path} has ${formatBytes(lv.sizeBytes)}, more than the ${formatBytes(wanted)} asked for; shrinking would destroy data, so set size to "${lv.sizeBytes}" to keep it as it is.`,
    );
  }
  await host.exec(buildExtendLogicalVolumeCommand(inputs.volumeGroup, inputs.name, wanted), {
    hint: "the volume group may not have enough free space: vgs shows VFree",
  });
}

export const logicalVolumeLifecycle: Lifecycle = {
  check: async (olds, news) => checkWith(spec, olds, news),
  diff: async (_id, olds, news) => diffWith(spec, olds, news),

  async create(raw) {
    const inputs = logicalVolumeSchema.parse(raw);
    const host = await hostOf(inputs.connection);
    let survey = await surveyLvm(host);
    if (!survey.volumeGroups.some((g) => g.name === inputs.volumeGroup)) {
      throw new RefusedError(`${host.name}: volume group "${inputs.volumeGroup}" does not exist; create it first (VolumeGroup) or fix volumeGroup.`);
    }
    const existing = find(survey, inputs);
    const wanted = roundUpToExtent(parseSize(inputs.size) ?? 0, extentOf(survey, inputs));
    if (existing) await grow(host, inputs, survey);
    else {
      await host.exec(buildCreateLogicalVolumeCommand(inputs.volumeGroup, inputs.name, wanted), { hint: "vgs shows the free space (VFree) of the volume group" });
      if (inputs.zeroOnCreate) await host.exec(buildZeroVolumeCommand(`/dev/${inputs.volumeGroup}/${inputs.name}`), { timeoutMs: 60 * 60_000 });
    }
    survey = await surveyLvm(host);
    return {
      id: `${describeHost(inputs.connection)}/${inputs.volumeGroup}/${inputs.name}`,
      outs: { ...outputs(inputs, host, survey), adopted: existing !== undefined },
    };
  },

  async read(id, props) {
    const inputs = logicalVolumeSchema.parse(props);
    const host = await hostOf(inputs.connection, props);
    const survey = await surveyLvm(host);
    const lv = find(survey, inputs);
    if (!lv) return {};
    // A size changed behind our back shows as a diff on the next preview.
    const size = lv.sizeBytes === props.sizeBytes ? inputs.size : lv.sizeBytes;
    return { id, props: { ...props, ...outputs({ ...inputs, size }, host, survey) } };
  },

  async update(_id, olds, news) {
    const inputs = logicalVolumeSchema.parse(news);
    const host = await hostOf(inputs.connection, olds);
    const survey = await surveyLvm(host);
    if (!find(survey, inputs)) {
      throw new RefusedError(`${host.name}: ${inputs.volumeGroup}/${inputs.name} is gone from the host; run pulumi refresh, then up to create it again.`);
    }
    await grow(host, inputs, survey);
    return { outs: { ...olds, ...outputs(inputs, host, await surveyLvm(host)) } };
  },

  async delete(_id, props) {
    const inputs = logicalVolumeSchema.parse(props);
    const host = await hostOf(inputs.connection, props);
    const lv = find(await surveyLvm(host), inputs);
    if (!lv) return;
    if (lv.open) {
      throw new RefusedError(
        `${host.name}: ${lv.path} is open (used by a running DomU, DRBD or a mount); stop the DomU or take DRBD down first, then run the command again.`,
      );
    }
    await host.exec(buildRemoveLogicalVolumeCommand(inputs.volumeGroup, inputs.name));
  },
};
