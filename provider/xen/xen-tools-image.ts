import * as pulumi from "@pulumi/pulumi";
import { RefusedError } from "../errors";
import { changed } from "../diff";
import { checkWith, connectionRule, diffWith, PartialCreateError, type Lifecycle, type Props } from "../lifecycle";
import { buildRemoveLogicalVolumeCommand } from "../lvm/commands";
import { surveyLvm, type LvmSurvey } from "../lvm/survey";
import { progress } from "../progress";
import { secretInput } from "../secret-input";
import { providerFor } from "../shim";
import { sh } from "../shell";
import { hostOf, type Host } from "../ssh";
import type { ConnectionArgs } from "../args";
import { describeHost } from "../ssh/connection";
import type { Disk } from "./schema";
import {
  DISTRIBUTIONS_CONF_PATH,
  INSTALL_TIME_SETTINGS,
  buildSetRootPasswordScript,
  buildXenCreateImageScript,
  disablePygrubFor,
  forcesPygrub,
  generatedConfigPath,
  readGeneratedGuest,
  renderXenToolsConfig,
  validateImageChange,
  xenToolsConfigPath,
  xenToolsImageSchema,
  xenToolsVolumes,
  type XenToolsImageInputs,
} from "./xen-tools";

type In<T> = pulumi.Input<T>;

export interface XenToolsImageArgs {
  /** How to reach the dom0 that runs xen-create-image (the seed's ha1). */
  connection: In<ConnectionArgs>;
  /** The guest's host name (`--hostname`, the seed's `test`); the volumes are `NAME-disk` and `NAME-swap`. */
  name: In<string>;
  /** The guest's address (`--ip`, the seed's 10.1.1.50). */
  ip: In<string>;
  /** Volume group for the volumes. Default "vg". */
  volumeGroup?: In<string>;
  /** Root disk size as xen-tools takes it. Default "5Gb". */
  size?: In<string>;
  /** Swap size, or false for none. Default "384Mb". */
  swap?: In<string | false>;
  /** MiB written into the generated config. Default 384 (the XenDomU sets the guest's own). */
  memory?: In<number>;
  /** Root filesystem. Default ext3. */
  fs?: In<"ext2" | "ext3" | "ext4" | "xfs" | "reiserfs" | "btrfs">;
  /** Distribution. Default bookworm. */
  dist?: In<string>;
  /** Default sparse. */
  image?: In<"sparse" | "full">;
  /** Default 10.1.1.1. */
  gateway?: In<string>;
  /** Default 255.255.255.0. */
  netmask?: In<string>;
  /** Default 10.1.1.255. */
  broadcast?: In<string>;
  /** Default amd64. */
  arch?: In<string>;
  /** debootstrap (default), tar, copy, rinse or rpmstrap. */
  installMethod?: In<"debootstrap" | "tar" | "copy" | "rinse" | "rpmstrap">;
  /** Tarball (tar) or directory (copy) on the dom0. */
  installSource?: In<string>;
  /** Package mirror for debootstrap. */
  mirror?: In<string>;
  /** Root password (a secret), used once at installation. Default: none set. */
  password?: In<string>;
  /** Kernel for the guest. Default: the dom0's. */
  kernel?: In<string>;
  /** Initrd for the guest. Default: the dom0's. */
  initrd?: In<string>;
  /** Boot with pygrub. Default false. */
  pygrub?: In<boolean>;
  /** Seconds xen-create-image may take. Default 3600. */
  timeoutSeconds?: In<number>;
  /** Take over a finished installation of this name (its volumes and generated config) instead of refusing. Default false. */
  adopt?: In<boolean>;
  /** Remove an adopted guest's volumes when the resource is deleted. Default false: they are left on the host. */
  deleteAdopted?: In<boolean>;
  /** Allow a change that reinstalls the guest, deleting its volumes with their data. Default false. */
  allowDestructiveReplace?: In<boolean>;
}

/** One volume xen-create-image made. */
export interface XenToolsImageVolume {
  /** `NAME-disk` or `NAME-swap`. */
  name: string;
  /** `/dev/VG/NAME`. */
  path: string;
  /** Bytes, as LVM allocated them. */
  sizeBytes: number;
  /** The size as `lvcreate -L` takes it, for the peer's matching volume ("5120M"). */
  size: string;
  /** The guest's device for it. */
  vdev: string;
}

/**
 * A guest installed by `xen-create-image` on one dom0, as the seed does it: volumes `NAME-disk`
 * and `NAME-swap` in the volume group and a root file system on them. Its outputs (boot settings,
 * volumes, disks as `phy:` and as the seed's `drbd:` resources) feed a `XenDomU`; DRBD is layered
 * on the volumes in between. Deleting it removes the volumes, and is refused while they are open.
 */
export class XenToolsImage extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  /** Kernel the generated config boots. */
  declare readonly kernel: pulumi.Output<string | undefined>;
  declare readonly ramdisk: pulumi.Output<string | undefined>;
  /** `root=` of the generated config, such as "/dev/xvda2 ro". */
  declare readonly root: pulumi.Output<string | undefined>;
  /** The generated kernel arguments plus `net.ifnames=0`. */
  declare readonly extra: pulumi.Output<string>;
  /** The disks as xen-create-image wrote them (`phy:/dev/vg/NAME-disk`). */
  declare readonly disks: pulumi.Output<Disk[]>;
  /** The same disks on DRBD resources named like their volumes (the seed's `drbd:NAME-disk`). */
  declare readonly drbdDisks: pulumi.Output<Disk[]>;
  declare readonly volumes: pulumi.Output<XenToolsImageVolume[]>;
  /** Where the generated config is kept (not /etc/xen: that file belongs to the XenDomU). */
  declare readonly generatedConfigPath: pulumi.Output<string>;
  /** Whether the installation existed before this resource took it over. */
  declare readonly adopted: pulumi.Output<boolean>;
  declare readonly observedHostKey: pulumi.Output<string>;

  constructor(name: string, args: XenToolsImageArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("XenToolsImage"),
      name,
      {
        // `kernel` is an input and an output (the one the generated config boots): its placeholder
        // goes first, so a kernel given as input is kept.
        kernel: undefined,
        ...args,
        connection: secretInput(args.connection),
        password: secretInput(args.password),
        ramdisk: undefined,
        root: undefined,
        extra: undefined,
        disks: undefined,
        drbdDisks: undefined,
        volumes: undefined,
        generatedConfigPath: undefined,
        adopted: undefined,
        observedHostKey: undefined,
      },
      { ...opts, additionalSecretOutputs: ["connection", "password"] },
      "xenha",
      "XenToolsImage",
    );
  }
}

const spec = {
  typeName: "XenToolsImage",
  schema: xenToolsImageSchema,
  rules: {
    connection: connectionRule,
    name: "replace",
    ...Object.fromEntries(INSTALL_TIME_SETTINGS.map((k) => [k, "replace" as const])),
    // The recorded kernel is the one xen-create-image used, xen-tools' default when none was given.
    kernel: (before: unknown, after: unknown) => (after !== undefined && changed(before, after) ? "replace" : undefined),
    timeoutSeconds: "update",
    adopt: "update",
    deleteAdopted: "update",
    allowDestructiveReplace: "update",
  },
  validateChange: validateImageChange,
  dataLostOnReplace: (olds: XenToolsImageInputs) => `the guest's volumes ${olds.name}-disk${olds.swap === false ? "" : ` and ${olds.name}-swap`} in ${olds.volumeGroup} with the installed system and everything written since`,
} as const;

function volumesOf(inputs: XenToolsImageInputs, survey: LvmSurvey): XenToolsImageVolume[] {
  return xenToolsVolumes(inputs).flatMap((v) => {
    const lv = survey.logicalVolumes.find((l) => l.volumeGroup === inputs.volumeGroup && l.name === v.name);
    return lv ? [{ name: v.name, path: lv.path, sizeBytes: lv.sizeBytes, size: v.size, vdev: v.vdev }] : [];
  });
}

function outputsOf(inputs: XenToolsImageInputs, host: Host, survey: LvmSurvey, configText: string): Props {
  return {
    ...inputs,
    ...readGeneratedGuest(configText),
    volumes: volumesOf(inputs, survey),
    generatedConfigPath: generatedConfigPath(inputs.name),
    observedHostKey: host.hostKey,
  };
}

/** Preconditions checked before anything is written, and the volumes already there. */
async function preflight(inputs: XenToolsImageInputs, host: Host, survey: LvmSurvey, configText: string | undefined): Promise<"install" | "adopt"> {
  if (!survey.volumeGroups.some((g) => g.name === inputs.volumeGroup)) {
    throw new RefusedError(`${host.name}: volume group "${inputs.volumeGroup}" does not exist; create it first (VolumeGroup) or fix volumeGroup.`);
  }
  const present = volumesOf(inputs, survey);
  const expected = xenToolsVolumes(inputs);
  if (present.length === expected.length && configText !== undefined) {
    if (inputs.adopt) return "adopt";
    throw new RefusedError(
      `${host.name}: ${inputs.name} is already installed (${present.map((v) => v.path).join(" and ")}, ${generatedConfigPath(inputs.name)}) and this stack did not install it. ` +
        `Set adopt: true to take it over with its data (its volumes are then left on the host when the resource is deleted, unless deleteAdopted: true), or choose another name.`,
    );
  }
  if (present.length > 0) {
    throw new RefusedError(
      `${host.name}: ${present.map((v) => v.path).join(" and ")} already exist${present.length === 1 ? "s" : ""} but no config of a finished installation does (${generatedConfigPath(inputs.name)}); ` +
        `xen-create-image would refuse to overwrite them. If they hold nothing you need, remove them (lvremove) and run up again.`,
    );
  }
  if (inputs.installSource !== undefined) {
    const found = await host.exec(sh`test -e ${inputs.installSource}`, { okExitCodes: [1] });
    if (found.exitCode !== 0) throw new RefusedError(`${host.name}: installSource ${inputs.installSource} does not exist; copy the tarball (or directory) there first.`);
  }
  return "install";
}

async function install(inputs: XenToolsImageInputs, host: Host): Promise<void> {
  if (!inputs.pygrub) {
    const distributions = (await host.readFile(DISTRIBUTIONS_CONF_PATH)) ?? "";
    if (forcesPygrub(distributions, inputs.dist)) {
      await host.writeFile(DISTRIBUTIONS_CONF_PATH, disablePygrubFor(distributions, inputs.dist), { mode: "0644" });
    }
  }
  await host.removeFiles([generatedConfigPath(inputs.name)]);
  await host.writeFile(xenToolsConfigPath(inputs.name), renderXenToolsConfig(inputs), { mode: "0644" });
  await host.exec(buildXenCreateImageScript(inputs), {
    timeoutMs: inputs.timeoutSeconds * 1000,
    hint: "the log's tail is above (/var/log/xen-tools/NAME.log on the host)",
  });
  if (inputs.password !== undefined) {
    await host.exec(buildSetRootPasswordScript(inputs), { stdin: `${inputs.password}\n`, hint: "the guest's root file system must be mountable in the dom0" });
  }
}

export const xenToolsImageLifecycle: Lifecycle = {
  check: async (olds, news) => checkWith(spec, olds, news),
  diff: async (_id, olds, news) => diffWith(spec, olds, news),

  async create(raw) {
    const inputs = xenToolsImageSchema.parse(raw);
    const host = await hostOf(inputs.connection);
    const id = `${describeHost(inputs.connection)}/${inputs.volumeGroup}/${inputs.name}`;
    let survey = await surveyLvm(host);
    let config = await host.readFile(generatedConfigPath(inputs.name));
    const action = await preflight(inputs, host, survey, config);
    if (action === "adopt") return { id, outs: { ...outputsOf(inputs, host, survey, config!), adopted: true } };
    try {
      await install(inputs, host);
      survey = await surveyLvm(host);
      config = await host.readFile(generatedConfigPath(inputs.name));
      if (config === undefined) throw new Error(`${host.name}: xen-create-image succeeded but wrote no ${generatedConfigPath(inputs.name)}`);
      return { id, outs: { ...outputsOf(inputs, host, survey, config), adopted: false } };
    } catch (err) {
      // Whatever xen-create-image left behind is recorded, so a destroy (or the next up) deals with it.
      survey = await surveyLvm(host).catch(() => survey);
      if (volumesOf(inputs, survey).length === 0) throw err;
      throw new PartialCreateError(id, { ...inputs, volumes: volumesOf(inputs, survey), generatedConfigPath: generatedConfigPath(inputs.name), observedHostKey: host.hostKey }, err);
    }
  },

  async read(id, props) {
    const inputs = xenToolsImageSchema.parse(props);
    const host = await hostOf(inputs.connection, props);
    const survey = await surveyLvm(host);
    const config = await host.readFile(generatedConfigPath(inputs.name));
    const volumes = volumesOf(inputs, survey);
    if (volumes.length === 0 && config === undefined) return {};
    // Without the generated config the recorded boot settings stand; the volumes are what LVM shows.
    const generated = config === undefined ? {} : readGeneratedGuest(config);
    return { id, props: { ...props, ...generated, volumes, observedHostKey: host.hostKey } };
  },

  async update(_id, olds, news) {
    const inputs = xenToolsImageSchema.parse(news);
    const host = await hostOf(inputs.connection, olds);
    return { outs: { ...olds, ...inputs, volumes: volumesOf(inputs, await surveyLvm(host)), observedHostKey: host.hostKey } };
  },

  async delete(_id, props) {
    const inputs = xenToolsImageSchema.parse(props);
    const host = await hostOf(inputs.connection, props);
    const survey = await surveyLvm(host);
    if (props.adopted === true && !inputs.deleteAdopted) {
      progress(`${host.name}: ${inputs.name} was adopted, so its volumes are left on the host with their data (deleteAdopted: true removes them)`);
      return;
    }
    const open = survey.logicalVolumes.filter((l) => l.volumeGroup === inputs.volumeGroup && l.open && xenToolsVolumes(inputs).some((v) => v.name === l.name));
    if (open.length > 0) {
      throw new RefusedError(
        `${host.name}: ${open.map((l) => l.path).join(" and ")} ${open.length === 1 ? "is" : "are"} open (a running DomU, DRBD or a mount); stop the DomU and take DRBD down first, then run the command again.`,
      );
    }
    for (const volume of volumesOf(inputs, survey)) await host.exec(buildRemoveLogicalVolumeCommand(inputs.volumeGroup, volume.name));
    await host.removeFiles([generatedConfigPath(inputs.name), xenToolsConfigPath(inputs.name)]);
  },
};
