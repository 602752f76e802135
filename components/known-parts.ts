/** The parts of the component's args already known when the program runs, which its own checks can judge. */
import { isUnknown, UNKNOWN } from "../provider/inputs";
import { isDeferred } from "./deferred";

/** The args with every value not known yet replaced by the engine's unknown sentinel, which validation skips. */
export function knownParts(value: unknown): unknown {
  if (isDeferred(value)) return UNKNOWN;
  if (Array.isArray(value)) return value.map(knownParts);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, knownParts(v)]));
  return value;
}

export const isKnown = (v: unknown): v is string | number => (typeof v === "string" || typeof v === "number") && !isUnknown(v);
