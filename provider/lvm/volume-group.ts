import * as pulumi from "@pulumi/pulumi";
import { RefusedError } from "../errors";
import { checkWith, connectionRule, diffWith, PartialCreateError, type Lifecycle, type Props } from "../lifecycle";
import { refreshedInputs } from "../refreshed-inputs";
import { progress } from "../progress";
import { secretInput } from "../secret-input";
import { providerFor } from "../shim";
import type { ConnectionArgs } from "../args";
import { describeHost } from "../ssh/connection";
import { hostOf, type Host } from "../ssh";
import {
  buildCreateVolumeGroupScript,
  buildExtendVolumeGroupScript,
  buildReduceVolumeGroupScript,
  buildRemoveVolumeGroupScript,
} from "./commands";
import { volumeGroupSchema, type VolumeGroupInputs } from "./schema";
import { surveyLvm, type LvmSurvey } from "./survey";

export interface VolumeGroupArgs {
  /** How to reach the host over SSH; each field may be an Input (a secret key from config, say). */
  connection: pulumi.Input<ConnectionArgs>;
  /** Volume group name, as the seed's `vg`. */
  name: pulumi.Input<string>;
  /** Block devices that become its physical volumes (the seed's `/dev/sda3`). They must be blank or already LVM physical volumes of no group. */
  devices: pulumi.Input<pulumi.Input<string>[]>;
  /** Take over a volume group of this name that already exists instead of refusing to create it. Default false. */
  adopt?: pulumi.Input<boolean>;
  /** Remove an adopted group when the resource is deleted. Default false: an adopted group is left on the host. */
  deleteAdopted?: pulumi.Input<boolean>;
  /** Allow a change that replaces the group (another name), deleting the old one. Default false. */
  allowDestructiveReplace?: pulumi.Input<boolean>;
}

/**
 * An LVM volume group (`pvcreate` + `vgcreate`). Deleting a group that still holds volumes is
 * refused; a group that already exists is taken over only with `adopt`, and left on delete.
 */
export class VolumeGroup extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly devices: pulumi.Output<string[]>;
  declare readonly sizeBytes: pulumi.Output<number>;
  declare readonly freeBytes: pulumi.Output<number>;
  declare readonly extentBytes: pulumi.Output<number>;
  /** Whether the group existed before this resource took it over. */
  declare readonly adopted: pulumi.Output<boolean>;
  declare readonly observedHostKey: pulumi.Output<string>;

  constructor(name: string, args: VolumeGroupArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("VolumeGroup"),
      name,
      { ...args, connection: secretInput(args.connection), sizeBytes: undefined, freeBytes: undefined, extentBytes: undefined, adopted: undefined, observedHostKey: undefined },
      { ...opts, additionalSecretOutputs: ["connection"] },
      "xenha",
      "VolumeGroup",
    );
  }
}

const spec = {
  typeName: "VolumeGroup",
  schema: volumeGroupSchema,
  rules: { connection: connectionRule, name: "replace", devices: "update", adopt: "update", deleteAdopted: "update", allowDestructiveReplace: "update" },
  dataLostOnReplace: (olds: VolumeGroupInputs) => `the volume group ${olds.name} (refused while it holds volumes)`,
} as const;

function outputsFrom(inputs: VolumeGroupInputs, host: Host, survey: LvmSurvey): Props {
  const vg = survey.volumeGroups.find((g) => g.name === inputs.name);
  return {
    ...inputs,
    sizeBytes: vg?.sizeBytes ?? 0,
    freeBytes: vg?.freeBytes ?? 0,
    extentBytes: vg?.extentBytes ?? 0,
    observedHostKey: host.hostKey,
  };
}

/** Devices we may turn into physical volumes: blank ones. Anything else is refused with the reason. */
function devicesToInitialise(inputs: VolumeGroupInputs, host: Host, survey: LvmSurvey, devices: readonly string[]): string[] {
  const fresh: string[] = [];
  for (const device of devices) {
    const pv = survey.physicalVolumes.find((p) => p.device === device);
    if (pv) {
      if (pv.volumeGroup && pv.volumeGroup !== inputs.name) {
        throw new RefusedError(`${host.name}: ${device} already belongs to volume group "${pv.volumeGroup}"; remove it from that group first or choose another device.`);
      }
      continue;
    }
    const seen = survey.devices.find((d) => d.device === device);
    if (!seen?.exists) throw new RefusedError(`${host.name}: ${device} is not a block device on this host; check devices[] (lsblk lists the disks).`);
    if (seen.signature) {
      throw new RefusedError(
        `${host.name}: ${device} holds a ${seen.signature} signature, so it may hold data. If it is not needed, wipe it deliberately (wipefs -a ${device}) and run up again.`,
      );
    }
    fresh.push(device);
  }
  return fresh;
}

async function createGroup(host: Host, inputs: VolumeGroupInputs, survey: LvmSurvey): Promise<void> {
  const fresh = devicesToInitialise(inputs, host, survey, inputs.devices);
  await host.exec(buildCreateVolumeGroupScript(inputs.name, fresh, inputs.devices));
}

export const volumeGroupLifecycle: Lifecycle = {
  check: async (olds, news) => checkWith(spec, olds, news),
  refreshedInputs: (props) => refreshedInputs(spec.schema, props),
  diff: async (_id, olds, news) => diffWith(spec, olds, news),

  async create(raw) {
    const inputs = volumeGroupSchema.parse(raw);
    const host = await hostOf(inputs.connection);
    const id = `${describeHost(inputs.connection)}/${inputs.name}`;
    const survey = await surveyLvm(host, inputs.devices);
    const existing = survey.volumeGroups.find((g) => g.name === inputs.name);
    if (existing) {
      const members = survey.physicalVolumes.filter((p) => p.volumeGroup === inputs.name).map((p) => p.device).sort();
      if (!inputs.adopt) {
        throw new RefusedError(
          `${host.name}: volume group "${inputs.name}" already exists (on ${members.join(", ")}, ${existing.logicalVolumeCount} volume(s)) and this stack did not create it. ` +
            `Set adopt: true to take it over (it is then left on the host when the resource is deleted, unless deleteAdopted: true), or choose another name.`,
        );
      }
      if (members.join(" ") !== [...inputs.devices].sort().join(" ")) {
        throw new RefusedError(`${host.name}: volume group "${inputs.name}" already exists on ${members.join(", ")}, not on ${inputs.devices.join(", ")}; set devices to match to adopt it.`);
      }
      return { id, outs: { ...outputsFrom(inputs, host, survey), adopted: true } };
    }
    await createGroup(host, inputs, survey).catch(async (err: unknown) => {
      // pvcreate may have run before vgcreate failed: keep what was made in the state; the next up finishes.
      const after = await surveyLvm(host, inputs.devices).catch(() => survey);
      const made = after.physicalVolumes.some((p) => inputs.devices.includes(p.device) && !survey.physicalVolumes.some((q) => q.device === p.device));
      if (!made && !after.volumeGroups.some((g) => g.name === inputs.name)) throw err;
      throw new PartialCreateError(id, { ...outputsFrom(inputs, host, after), adopted: false }, err);
    });
    return { id, outs: { ...outputsFrom(inputs, host, await surveyLvm(host)), adopted: false } };
  },

  async read(id, props) {
    const inputs = volumeGroupSchema.parse(props);
    const host = await hostOf(inputs.connection, props);
    const survey = await surveyLvm(host);
    if (!survey.volumeGroups.some((g) => g.name === inputs.name)) return {};
    const devices = survey.physicalVolumes.filter((p) => p.volumeGroup === inputs.name).map((p) => p.device);
    return { id, props: { ...props, ...outputsFrom({ ...inputs, devices }, host, survey) } };
  },

  async update(_id, olds, news) {
    const before = volumeGroupSchema.parse(olds);
    const inputs = volumeGroupSchema.parse(news);
    const host = await hostOf(inputs.connection, olds);
    const current = await surveyLvm(host, inputs.devices);
    if (!current.volumeGroups.some((g) => g.name === inputs.name)) {
      // A create cut short between pvcreate and vgcreate.
      await createGroup(host, inputs, current);
      return { outs: { ...olds, ...outputsFrom(inputs, host, await surveyLvm(host)) } };
    }
    const added = inputs.devices.filter((d) => !before.devices.includes(d));
    const removed = before.devices.filter((d) => !inputs.devices.includes(d));
    let survey = await surveyLvm(host, added);
    if (added.length > 0) {
      await host.exec(buildExtendVolumeGroupScript(inputs.name, devicesToInitialise(inputs, host, survey, added), added));
    }
    for (const device of removed) {
      const pv = survey.physicalVolumes.find((p) => p.device === device);
      if (pv && pv.usedBytes > 0) {
        throw new RefusedError(`${host.name}: ${device} still holds ${pv.usedBytes} bytes of volume group "${inputs.name}"; move them off first (pvmove ${device}) and run up again.`);
      }
    }
    if (removed.length > 0) await host.exec(buildReduceVolumeGroupScript(inputs.name, removed));
    survey = await surveyLvm(host);
    return { outs: { ...olds, ...outputsFrom(inputs, host, survey) } };
  },

  async delete(_id, props) {
    const inputs = volumeGroupSchema.parse(props);
    const host = await hostOf(inputs.connection, props);
    const survey = await surveyLvm(host);
    const vg = survey.volumeGroups.find((g) => g.name === inputs.name);
    if (!vg) return;
    if (props.adopted === true && !inputs.deleteAdopted) {
      progress(`${host.name}: volume group "${inputs.name}" was adopted, so it is left on the host (deleteAdopted: true removes it)`);
      return;
    }
    if (vg.logicalVolumeCount > 0) {
      const names = survey.logicalVolumes.filter((l) => l.volumeGroup === inputs.name).map((l) => l.name);
      throw new RefusedError(
        `${host.name}: volume group "${inputs.name}" still holds ${vg.logicalVolumeCount} logical volume(s) (${names.join(", ")}); delete them first, or remove this resource from the stack without touching the host (pulumi state delete).`,
      );
    }
    const members = survey.physicalVolumes.filter((p) => p.volumeGroup === inputs.name).map((p) => p.device);
    await host.exec(buildRemoveVolumeGroupScript(inputs.name, members));
  },
};
