/** What every phase gets: where to record, what to measure, and the engine stacks it shares. */
import type { EngineStack } from "../../test/support/engine";
import type { BenchPlan } from "../options";
import type { ClusterDesired } from "../program";
import type { Recorder } from "../recorder";

export interface BenchContext {
  plan: BenchPlan;
  recorder: Recorder;
}

/** The package's cluster stack and the state its program reads. */
export interface ClusterStack {
  stack: EngineStack;
  desired: ClusterDesired;
}

export const seconds = (fromMs: number, toMs = Date.now()): number => (toMs - fromMs) / 1000;
