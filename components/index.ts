export { TwoNodeXenHa, type TwoNodeXenHaArgs, type ClusterNodeArgs, type ClusterVmArgs, type VmInstall, type VmReport } from "./two-node-xen-ha";
