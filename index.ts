export { VolumeGroup, type VolumeGroupArgs } from "./provider/lvm/volume-group";
export { LogicalVolume, type LogicalVolumeArgs } from "./provider/lvm/logical-volume";
export { DrbdResource, type DrbdResourceArgs } from "./provider/drbd/drbd-resource";
export type { ConnectionInput } from "./provider/ssh/connection";
export {
  HostCommandError,
  HostKeyMismatchError,
  RefusedError,
  ValidationError,
  isHostCommandError,
  isHostKeyMismatchError,
  isRefusedError,
} from "./provider/errors";
export { quote } from "./provider/shell";
