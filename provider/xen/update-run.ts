/** Runs XenDomU's update plan (update-plan.ts) on the hosts: the thin executor beside the pure plan. */
import { HostStateError, RefusedError } from "../errors";
import { warn } from "../engine-log";
import { applyLive, moveGuest, startGuest, startRefusal, stopGuest, writeConfigs, type Views } from "./domu-ops";
import { handBackThroughHeartbeat } from "./heartbeat-handback";
import type { XenDomUInputs } from "./schema";
import type { UpdateStep } from "./update-plan";

/** Runs an update's steps (`planUpdate`) in order; `runningOn` is where the guest runs before them. */
export async function runUpdate(inputs: XenDomUInputs, views: Views, steps: readonly UpdateStep[], runningOn: string | undefined): Promise<void> {
  let host = runningOn;
  for (const step of steps) {
    switch (step.kind) {
      case "refuse":
        throw new RefusedError(step.reason);
      case "refuseUnlessStartable": {
        const refusal = startRefusal(inputs, views, step.on);
        if (refusal) throw new RefusedError(refusal);
        break;
      }
      case "writeConfigs":
        await writeConfigs(inputs, views);
        break;
      case "stop":
        await stopGuest(inputs, views);
        break;
      case "start":
        await startGuest(inputs, views, step.on);
        break;
      case "move": {
        const handBack = step.through === "heartbeat" ? await handBackThroughHeartbeat(inputs, views, step.from, step.to) : ({ kind: "direct" } as const);
        if (handBack.kind === "direct") {
          if (step.how.kind === "unknown") throw new HostStateError(`${inputs.name} stays on ${step.from}: what the hypervisors can do was not read, so how to move it is not known; run the command again`);
          await moveGuest(inputs, step.how, views[step.from]!, views[step.to]!);
        }
        if (handBack.kind === "deferred") await warn(handBack.reason);
        else host = step.to;
        break;
      }
      case "applyLive":
        await applyLive(inputs, views[host ?? inputs.runOn]!, step);
        break;
    }
  }
}
