export { VolumeGroup, type VolumeGroupArgs } from "./provider/lvm/volume-group";
export { LogicalVolume, type LogicalVolumeArgs } from "./provider/lvm/logical-volume";
export { DrbdResource, type DrbdResourceArgs } from "./provider/drbd/drbd-resource";
export { dopdFencePeer } from "./provider/drbd/fencing";
export { NodeNetwork, type NodeNetworkArgs } from "./provider/network/node-network";
export { HeartbeatCluster, type HeartbeatClusterArgs } from "./provider/heartbeat/cluster";
export { CorosyncCluster, type CorosyncClusterArgs, type QuorumView } from "./provider/corosync/corosync-cluster";
export { PacemakerConfig, type GuestPlacementReport, type PacemakerConfigArgs } from "./provider/pacemaker/pacemaker-config";
export { checkConnectionSettings, type ConnectionInput, type ConnectionSettings } from "./provider/ssh/connection";
export {
  ConnectionError,
  HostCommandError,
  HostKeyConflictError,
  HostKeyMismatchError,
  HostStateError,
  RefusedError,
  ValidationError,
  isConnectionError,
  isHostCommandError,
  isHostKeyConflictError,
  isHostKeyMismatchError,
  isHostStateError,
  isRefusedError,
} from "./provider/errors";
export { quote } from "./provider/shell";
export { XenDomU, type XenDomUArgs } from "./provider/xen/domu";
export { XenMigrationTrust, type XenMigrationTrustArgs } from "./provider/xen/migration-trust";
export { XenToolsImage, type XenToolsImageArgs, type XenToolsImageVolume } from "./provider/xen/xen-tools-image";
export { migrationSshCommand } from "./provider/xen/migration";
export * from "./components";
