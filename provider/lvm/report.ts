/** Parsing LVM's JSON reports (`vgs`, `pvs`, `lvs --reportformat json --units b --nosuffix`). */

export interface VolumeGroupState {
  name: string;
  uuid: string;
  sizeBytes: number;
  freeBytes: number;
  extentBytes: number;
  logicalVolumeCount: number;
}

export interface PhysicalVolumeState {
  device: string;
  volumeGroup: string;
  sizeBytes: number;
  usedBytes: number;
}

export interface LogicalVolumeState {
  name: string;
  volumeGroup: string;
  path: string;
  sizeBytes: number;
  /** Open by a DomU, DRBD, a mount: anything holding the device. */
  open: boolean;
  active: boolean;
  uuid: string;
}

type Row = Record<string, string>;

function rowsOf(json: string, section: "vg" | "pv" | "lv"): Row[] {
  const parsed = JSON.parse(json) as { report?: Array<Record<string, Row[]>> };
  return (parsed.report ?? []).flatMap((r) => r[section] ?? []);
}

const num = (v: string | undefined): number => Number(v ?? "0");

export function parseVolumeGroups(json: string): VolumeGroupState[] {
  return rowsOf(json, "vg").map((r) => ({
    name: r.vg_name ?? "",
    uuid: r.vg_uuid ?? "",
    sizeBytes: num(r.vg_size),
    freeBytes: num(r.vg_free),
    extentBytes: num(r.vg_extent_size),
    logicalVolumeCount: num(r.lv_count),
  }));
}

export function parsePhysicalVolumes(json: string): PhysicalVolumeState[] {
  return rowsOf(json, "pv").map((r) => ({
    device: r.pv_name ?? "",
    volumeGroup: r.vg_name ?? "",
    sizeBytes: num(r.pv_size),
    usedBytes: num(r.pv_used),
  }));
}

/** `lv_attr` is ten letters; the fifth is the state (a = active), the sixth the open flag (o). */
export function parseLogicalVolumes(json: string): LogicalVolumeState[] {
  return rowsOf(json, "lv").map((r) => {
    const attr = r.lv_attr ?? "";
    return {
      name: r.lv_name ?? "",
      volumeGroup: r.vg_name ?? "",
      path: r.lv_path ?? "",
      sizeBytes: num(r.lv_size),
      open: attr[5] === "o",
      active: attr[4] === "a",
      uuid: r.lv_uuid ?? "",
    };
  });
}

/** A device's line in the survey: whether it exists and what signature blkid finds on it. */
export interface DeviceSurvey {
  device: string;
  exists: boolean;
  /** Filesystem or other signature type (`LVM2_member`, `ext4`, `drbd`…); empty when blank. */
  signature: string;
}

export function parseDeviceSurvey(text: string): DeviceSurvey[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("device\t"))
    .map((l) => {
      const [, device = "", exists = "", found = ""] = l.split("\t");
      return { device, exists: exists === "yes", signature: signatureOf(found) };
    });
}

/** `TYPE=ext4 PTTYPE=gpt` (blkid's export lines) → "ext4, gpt partition table"; empty when blank. */
export function signatureOf(exported: string): string {
  const fields = Object.fromEntries(
    exported
      .split(/\s+/)
      .filter((f) => f.includes("="))
      .map((f) => [f.slice(0, f.indexOf("=")), f.slice(f.indexOf("=") + 1)] as const),
  );
  return [fields.TYPE, fields.PTTYPE ? `${fields.PTTYPE} partition table` : undefined].filter(Boolean).join(", ");
}

/** Splits the output of a script that prints several reports separated by marker lines. */
export function splitSections(text: string, marker = "--8<--"): string[] {
  return text.split(`\n${marker}\n`);
}
