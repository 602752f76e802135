import * as pulumi from "@pulumi/pulumi";
import type { Classifier } from "../diff";
import { RefusedError } from "../errors";
import { checkWith, connectionRule, diffWith, PartialCreateError, type Lifecycle, type Props } from "../lifecycle";
import { refreshedInputs } from "../refreshed-inputs";
import { progress } from "../progress";
import { secretInput } from "../secret-input";
import { providerFor } from "../shim";
import { hostOf, type Host } from "../ssh";
import type { ConnectionArgs } from "../args";
import { describeHost } from "../ssh/connection";
import {
  buildCreateLogicalVolumeCommand,
  buildExtendLogicalVolumeCommand,
  buildRemoveLogicalVolumeCommand,
  buildRenameLogicalVolumeCommand,
  buildZeroVolumeCommand,
} from "./commands";
import { logicalVolumeSchema, type LogicalVolumeInputs } from "./schema";
import { DEFAULT_EXTENT_BYTES, formatBytes, parseSize, roundUpToExtent } from "./size";
import { surveyLvm, type LvmSurvey } from "./survey";

export interface LogicalVolumeArgs {
  /** How to reach the host over SSH; each field may be an Input (a secret key from config, say). */
  connection: pulumi.Input<ConnectionArgs>;
  /** Volume group that holds it. */
  volumeGroup: pulumi.Input<string>;
  /** Volume name, such as the seed's `test-disk`. A change renames the volume in place (`lvrename`), refused while it is open. */
  name: pulumi.Input<string>;
  /** Size as `lvcreate -L` takes it: "5G", "384M", or a number of MiB. Growing is online; shrinking is refused. */
  size: pulumi.Input<string | number>;
  /** Zero the whole volume when it is created here (for DRBD's meta-data volume). Default false. */
  zeroOnCreate?: pulumi.Input<boolean>;
  /** Take over a volume of this name that already exists instead of refusing to create it. Default false. */
  adopt?: pulumi.Input<boolean>;
  /** Remove an adopted volume when the resource is deleted. Default false: an adopted volume is left on the host. */
  deleteAdopted?: pulumi.Input<boolean>;
  /** Allow a change that replaces the volume (another volume group), deleting the old one with its data. Default false. */
  allowDestructiveReplace?: pulumi.Input<boolean>;
}

/**
 * An LVM logical volume. A volume that already exists is taken over only with `adopt`, and an
 * adopted volume is left on the host when the resource is deleted.
 */
export class LogicalVolume extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly volumeGroup: pulumi.Output<string>;
  /** Device path, `/dev/VG/NAME`. */
  declare readonly path: pulumi.Output<string>;
  /** Allocated size in bytes (whole extents). */
  declare readonly sizeBytes: pulumi.Output<number>;
  /** Whether the volume existed before this resource took it over. */
  declare readonly adopted: pulumi.Output<boolean>;
  declare readonly observedHostKey: pulumi.Output<string>;

  constructor(name: string, args: LogicalVolumeArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("LogicalVolume"),
      name,
      { ...args, connection: secretInput(args.connection), path: undefined, sizeBytes: undefined, adopted: undefined, zeroPending: undefined, observedHostKey: undefined },
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
  rules: {
    connection: connectionRule,
    volumeGroup: "replace",
    name: "update",
    size: sizeRule,
    zeroOnCreate: "update",
    adopt: "update",
    deleteAdopted: "update",
    allowDestructiveReplace: "update",
    // A create cut short before the volume was zeroed is finished by the next up.
    zeroPending: (before: unknown) => (before === true ? "update" : undefined),
  },
  dataLostOnReplace: (olds: LogicalVolumeInputs) => `the volume ${olds.volumeGroup}/${olds.name} with its data`,
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
      `${host.name}: ${lv.path} has ${formatBytes(lv.sizeBytes)}, more than the ${formatBytes(wanted)} asked for; shrinking would destroy data, so set size to "${lv.sizeBytes}B" to keep it as it is.`,
    );
  }
  await host.exec(buildExtendLogicalVolumeCommand(inputs.volumeGroup, inputs.name, wanted), {
    hint: "the volume group may not have enough free space: vgs shows VFree",
  });
}

export const logicalVolumeLifecycle: Lifecycle = {
  check: async (olds, news) => checkWith(spec, olds, news),
  refreshedInputs: (props) => refreshedInputs(spec.schema, props),
  diff: async (_id, olds, news) => diffWith(spec, olds, news),

  async create(raw) {
    const inputs = logicalVolumeSchema.parse(raw);
    const host = await hostOf(inputs.connection);
    let survey = await surveyLvm(host);
    if (!survey.volumeGroups.some((g) => g.name === inputs.volumeGroup)) {
      throw new RefusedError(`${host.name}: volume group "${inputs.volumeGroup}" does not exist; create it first (VolumeGroup) or fix volumeGroup.`);
    }
    const existing = find(survey, inputs);
    const id = `${describeHost(inputs.connection)}/${inputs.volumeGroup}/${inputs.name}`;
    if (existing) {
      if (!inputs.adopt) throw new RefusedError(adoptionRefusal(host, existing.path, existing.sizeBytes));
      await grow(host, inputs, survey);
      return { id, outs: { ...outputs(inputs, host, await surveyLvm(host)), adopted: true, zeroPending: false } };
    }
    const wanted = roundUpToExtent(parseSize(inputs.size) ?? 0, extentOf(survey, inputs));
    await host.exec(buildCreateLogicalVolumeCommand(inputs.volumeGroup, inputs.name, wanted), { hint: "vgs shows the free space (VFree) of the volume group" });
    try {
      if (inputs.zeroOnCreate) await zero(host, inputs);
    } catch (err) {
      // The volume exists but holds whatever its extents held: the next up zeroes it before anything uses it.
      survey = await surveyLvm(host).catch(() => survey);
      throw new PartialCreateError(id, { ...outputs(inputs, host, survey), adopted: false, zeroPending: true }, err);
    }
    return { id, outs: { ...outputs(inputs, host, await surveyLvm(host)), adopted: false, zeroPending: false } };
  },

  async read(id, props) {
    const inputs = logicalVolumeSchema.parse(props);
    const host = await hostOf(inputs.connection, props);
    const survey = await surveyLvm(host);
    const lv = find(survey, inputs);
    if (!lv) return {};
    // A size changed behind our back shows as a diff on the next preview.
    const size = lv.sizeBytes === props.sizeBytes ? inputs.size : `${lv.sizeBytes}B`;
    return { id, props: { ...props, ...outputs({ ...inputs, size }, host, survey) } };
  },

  async update(_id, olds, news) {
    const before = logicalVolumeSchema.parse(olds);
    const inputs = logicalVolumeSchema.parse(news);
    const host = await hostOf(inputs.connection, olds);
    let survey = await surveyLvm(host);
    if (before.name !== inputs.name) {
      await rename(host, survey, before, inputs);
      survey = await surveyLvm(host);
    }
    if (!find(survey, inputs)) {
      throw new RefusedError(`${host.name}: ${inputs.volumeGroup}/${inputs.name} is gone from the host; run pulumi refresh, then up to create it again.`);
    }
    if (olds.zeroPending === true) {
      if (find(survey, inputs)?.open) {
        throw new RefusedError(`${host.name}: ${inputs.volumeGroup}/${inputs.name} was never zeroed (its create was cut short) and is now open; stop what holds it, then run up again to zero it.`);
      }
      await zero(host, inputs);
    }
    await grow(host, inputs, survey);
    return { outs: { ...olds, ...outputs(inputs, host, await surveyLvm(host)), zeroPending: false } };
  },

  async delete(_id, props) {
    const inputs = logicalVolumeSchema.parse(props);
    const host = await hostOf(inputs.connection, props);
    const lv = find(await surveyLvm(host), inputs);
    if (!lv) return;
    if (props.adopted === true && !inputs.deleteAdopted) {
      progress(`${host.name}: ${lv.path} was adopted, so it is left on the host with its data (deleteAdopted: true removes it)`);
      return;
    }
    if (lv.open) {
      throw new RefusedError(
        `${host.name}: ${lv.path} is open (used by a running DomU, DRBD or a mount); stop the DomU or take DRBD down first, then run the command again.`,
      );
    }
    await host.exec(buildRemoveLogicalVolumeCommand(inputs.volumeGroup, inputs.name));
  },
};

function adoptionRefusal(host: Host, path: string, sizeBytes: number): string {
  return (
    `${host.name}: ${path} already exists (${formatBytes(sizeBytes)}) and this stack did not create it. ` +
    `Set adopt: true to take it over with its data (it is then left on the host when the resource is deleted, unless deleteAdopted: true), or choose another name.`
  );
}

async function zero(host: Host, inputs: LogicalVolumeInputs): Promise<void> {
  await host.exec(buildZeroVolumeCommand(`/dev/${inputs.volumeGroup}/${inputs.name}`), { timeoutMs: 60 * 60_000 });
}

/** Renaming keeps the data; a volume in use is refused, since its users know it by the old path. */
async function rename(host: Host, survey: LvmSurvey, before: LogicalVolumeInputs, after: LogicalVolumeInputs): Promise<void> {
  const old = find(survey, before);
  if (find(survey, after)) {
    throw new RefusedError(`${host.name}: cannot rename ${before.volumeGroup}/${before.name} to ${after.name}: a volume of that name already exists; choose another name.`);
  }
  if (!old) return;
  if (old.open) {
    throw new RefusedError(`${host.name}: ${old.path} is open (a running DomU, DRBD or a mount), so it cannot be renamed to ${after.name}; stop its users first, then run up again.`);
  }
  await host.exec(buildRenameLogicalVolumeCommand(before.volumeGroup, before.name, after.name));
}
