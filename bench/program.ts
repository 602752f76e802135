/**
 * The Pulumi programs the benchmark runs on the lab: the cluster (TwoNodeXenHa with the benchmark's
 * guests, as the cluster lab test builds it) and a lone replicated volume (two LogicalVolumes and a
 * DrbdResource). Each reads what it should declare from a mutable `desired` value, so one stack is
 * moved step by step.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { DrbdResource, LogicalVolume, TwoNodeXenHa } from "../index";
import { labConnection } from "../test/support/lab";
import { labClusterNode, labConnectionInput, labGuestVm } from "../test/support/lab-inputs";
import type { SyncMode } from "./options";
import { metaVolumeMiB, type BenchVm } from "./vms";

/** The Heartbeat key of both the program and the plain script. */
export const HEARTBEAT_KEY = "bench-heartbeat-key-0123";

export interface ClusterDesired {
  vms: BenchVm[];
}

/**
 * The recipe's cluster with the lab's guests; Heartbeat as the recipe sets it (auto_failback on),
 * without a watchdog (the plain script's ha.cf has none either).
 */
export function clusterProgram(desired: ClusterDesired): PulumiFn {
  return async () => {
    const cluster = new TwoNodeXenHa("cluster", {
      nodes: [labClusterNode("ha1"), labClusterNode("ha2")],
      metaVolumeSize: `${metaVolumeMiB(desired.vms)}M`,
      drbd: { usageCount: "no" },
      heartbeat: { authKey: pulumi.secret(HEARTBEAT_KEY), watchdog: null, autoFailback: "on" },
      vms: desired.vms.map((v) => labGuestVm(v.name, v.slot, v.home, v.ip)),
    });
    return { vms: cluster.vms };
  };
}

export interface VolumeDesired {
  sizeMiB: number;
  sync: SyncMode;
}

/** The DRBD resource of the volume case, outside the cluster's numbering. */
export const BENCH_VOLUME = { name: "bench-vol", minor: 100, port: 7900 } as const;

/**
 * A new replicated volume on the cluster's volume group. Skip-sync zeroes both volumes and skips
 * DRBD's initial sync, as the component does for empty volumes; full sync lets DRBD copy it.
 * Internal meta-data, wiped on delete so that the next volume on the same extents starts clean.
 */
export function volumeProgram(desired: VolumeDesired): PulumiFn {
  return async () => {
    const lab = labConnection();
    const skip = desired.sync === "skip";
    const nodes = (["ha1", "ha2"] as const).map((node) => {
      const connection = labConnectionInput(node, { pin: true });
      const volume = new LogicalVolume(`${BENCH_VOLUME.name}-${node}`, { connection, volumeGroup: "vg", name: BENCH_VOLUME.name, size: `${desired.sizeMiB}M`, zeroOnCreate: skip });
      return {
        volume,
        args: {
          connection,
          hostname: `${node}.domain.local`,
          address: lab.nodes[node].crossoverAddress,
          port: BENCH_VOLUME.port,
          device: `/dev/drbd${BENCH_VOLUME.minor}`,
          disk: `/dev/vg/${BENCH_VOLUME.name}`,
          metaDisk: "internal" as const,
        },
      };
    });
    new DrbdResource(
      BENCH_VOLUME.name,
      {
        name: BENCH_VOLUME.name,
        nodes: [nodes[0]!.args, nodes[1]!.args],
        initialSyncSource: "ha1.domain.local",
        skipInitialSync: skip,
        usageCount: "no",
        wipeMetadataOnDelete: true,
      },
      { dependsOn: nodes.map((n) => n.volume) },
    );
    return {};
  };
}
