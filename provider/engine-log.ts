/**
 * Warnings from the provider process to the person running pulumi. A provider's stderr reaches
 * the CLI only as info output; a warning goes through the engine's own Log service, whose address
 * the engine hands every provider plugin as its first argument, so `pulumi refresh`, `preview`
 * and `up` print it as a warning. Outside the engine (tests) it goes to stderr.
 */
import type { z } from "zod";
import { checkWith, type CheckResult, type Props, type Spec } from "./lifecycle";

type LogFn = (message: string) => Promise<void>;

let sender: LogFn | undefined;

export async function warn(message: string): Promise<void> {
  sender ??= engineWarningSender() ?? (async (m) => void process.stderr.write(`warning: pulumi-xen-ha: ${m}\n`));
  await sender(message).catch(() => process.stderr.write(`warning: pulumi-xen-ha: ${message}\n`));
}

export async function warnAll(messages: readonly string[]): Promise<void> {
  for (const message of messages) await warn(message);
}

/**
 * `checkWith`, then the warning the checked inputs call for, if any. check runs in every preview
 * and up, for a create as for an update, so the warning is seen before anything is made.
 */
export async function checkWithWarning<S extends z.ZodType>(spec: Spec<S>, olds: Props, news: Props, warningOf: (inputs: z.output<S>) => string | undefined): Promise<CheckResult> {
  const result = checkWith(spec, olds, news);
  const parsed = spec.schema.safeParse(result.inputs);
  const warning = result.failures.length === 0 && parsed.success ? warningOf(parsed.data) : undefined;
  if (warning) await warn(warning);
  return result;
}

function engineWarningSender(): LogFn | undefined {
  const address = process.argv[2];
  if (!address || !/^[\w.-]+:\d+$/.test(address) || !process.argv[1]?.includes("dynamic-provider")) return undefined;
  try {
    // The SDK's own gRPC, wherever the program's install put it.
    const grpc = require(require.resolve("@grpc/grpc-js", { paths: [require.resolve("@pulumi/pulumi")] }));
    const services = require("@pulumi/pulumi/proto/engine_grpc_pb.js");
    const messages = require("@pulumi/pulumi/proto/engine_pb.js");
    const client = new services.EngineClient(address, grpc.credentials.createInsecure());
    return (message) =>
      new Promise((resolve, reject) => {
        const request = new messages.LogRequest();
        request.setSeverity(messages.LogSeverity.WARNING);
        request.setMessage(message);
        client.log(request, (err: Error | null) => (err ? reject(err) : resolve()));
      });
  } catch {
    return undefined;
  }
}
