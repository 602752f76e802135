export {
  TwoNodeXenHa,
  type ClusterNodeArgs,
  type ClusterVifArgs,
  type ClusterVmArgs,
  type HeartbeatGroupReport,
  type NodeResources,
  type TwoNodeXenHaArgs,
  type VmInstall,
  type VmReport,
  type VmResources,
} from "./two-node-xen-ha";
export type { ConnectionArgs } from "../provider/args";
export type { DrbdNodeStatus } from "../provider/drbd/status";
export type { ExtraConfigValue } from "../provider/xen/schema";
