/** Reading LVM's state from a host in one round trip. */
import type { Host } from "../ssh/host";
import { buildSurveyScript } from "./commands";
import {
  parseDeviceSurvey,
  parseLogicalVolumes,
  parsePhysicalVolumes,
  parseVolumeGroups,
  splitSections,
  type DeviceSurvey,
  type LogicalVolumeState,
  type PhysicalVolumeState,
  type VolumeGroupState,
} from "./report";

export interface LvmSurvey {
  volumeGroups: VolumeGroupState[];
  physicalVolumes: PhysicalVolumeState[];
  logicalVolumes: LogicalVolumeState[];
  devices: DeviceSurvey[];
}

export function parseSurvey(text: string): LvmSurvey {
  const [vgs = "{}", pvs = "{}", lvs = "{}", devices = ""] = splitSections(text);
  return {
    volumeGroups: parseVolumeGroups(vgs),
    physicalVolumes: parsePhysicalVolumes(pvs),
    logicalVolumes: parseLogicalVolumes(lvs),
    devices: parseDeviceSurvey(devices),
  };
}

export async function surveyLvm(host: Host, devices: readonly string[] = []): Promise<LvmSurvey> {
  return parseSurvey(await host.output(buildSurveyScript(devices), { timeoutMs: 120_000 }));
}
