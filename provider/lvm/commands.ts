/** Command builders for LVM. Pure: they return shell text, they run nothing. */
import { joinLines, literal, sh, type Shell } from "../shell";

const REPORT = literal("--reportformat json --units b --nosuffix");
const MARKER = literal("echo '--8<--'");

const VG_FIELDS = "vg_name,vg_uuid,vg_size,vg_free,vg_extent_size,lv_count";
const PV_FIELDS = "pv_name,vg_name,pv_size,pv_used";
const LV_FIELDS = "lv_name,vg_name,lv_path,lv_size,lv_attr,lv_uuid";

/**
 * One round trip that reports every volume group, physical volume and logical volume, then the
 * given devices' existence and signatures. Sections are separated by marker lines.
 */
export function buildSurveyScript(devices: readonly string[] = []): Shell {
  const deviceLines = devices.map(
    // TYPE alone misses a disk that holds only a partition table; PTTYPE names that.
    (d) => sh`if [ -b ${d} ]; then printf 'device\t%s\tyes\t%s\n' ${d} "$(blkid -p -o export ${d} 2>/dev/null | grep -E '^(PT)?TYPE=' | tr '\n' ' ')"; else printf 'device\t%s\tno\t\n' ${d}; fi`,
  );
  return joinLines([
    literal("set -eu"),
    sh`vgs ${REPORT} -o ${VG_FIELDS}`,
    MARKER,
    sh`pvs ${REPORT} -o ${PV_FIELDS}`,
    MARKER,
    sh`lvs -a ${REPORT} -o ${LV_FIELDS}`,
    MARKER,
    ...deviceLines,
  ]);
}

export function buildCreateVolumeGroupScript(name: string, newPhysicalVolumes: readonly string[], devices: readonly string[]): Shell {
  return joinLines([
    literal("set -eu"),
    ...(newPhysicalVolumes.length > 0 ? [sh`pvcreate -- ${newPhysicalVolumes}`] : []),
    sh`vgcreate -- ${name} ${devices}`,
  ]);
}

export function buildExtendVolumeGroupScript(name: string, newPhysicalVolumes: readonly string[], added: readonly string[]): Shell {
  return joinLines([
    literal("set -eu"),
    ...(newPhysicalVolumes.length > 0 ? [sh`pvcreate -- ${newPhysicalVolumes}`] : []),
    sh`vgextend -- ${name} ${added}`,
  ]);
}

export function buildReduceVolumeGroupScript(name: string, removed: readonly string[]): Shell {
  return joinLines([literal("set -eu"), sh`vgreduce -- ${name} ${removed}`, sh`pvremove -- ${removed}`]);
}

export function buildRemoveVolumeGroupScript(name: string, devices: readonly string[]): Shell {
  return joinLines([literal("set -eu"), sh`vgremove -- ${name}`, sh`pvremove -- ${devices}`]);
}

/** New volumes start with no stale signature, so a DRBD or filesystem left by a previous volume is not mistaken for live data. */
export function buildCreateLogicalVolumeCommand(volumeGroup: string, name: string, bytes: number): Shell {
  return sh`lvcreate --yes --wipesignatures y --zero y -L ${`${bytes}b`} -n ${name} -- ${volumeGroup}`;
}

export function buildExtendLogicalVolumeCommand(volumeGroup: string, name: string, bytes: number): Shell {
  return sh`lvextend -L ${`${bytes}b`} -- ${`${volumeGroup}/${name}`}`;
}

export function buildRenameLogicalVolumeCommand(volumeGroup: string, from: string, to: string): Shell {
  return sh`lvrename -- ${volumeGroup} ${from} ${to}`;
}

export function buildRemoveLogicalVolumeCommand(volumeGroup: string, name: string): Shell {
  return sh`lvremove --yes -- ${`${volumeGroup}/${name}`}`;
}

/** Writes zeros over the whole volume (the kernel's zero-out, no data through the shell). */
export function buildZeroVolumeCommand(path: string): Shell {
  return sh`blkdiscard --zeroout ${path}`;
}
