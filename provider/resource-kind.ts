/** The kinds of resource the dynamic provider implements; the state names one per resource. */
export type ResourceKind = "VolumeGroup" | "LogicalVolume" | "DrbdResource" | "NodeNetwork" | "HeartbeatCluster" | "XenDomU" | "XenMigrationTrust" | "XenToolsImage" | "CorosyncCluster" | "PacemakerConfig";
