/** Whether a value is a pulumi Output, an unknown or a promise: checked by the child resource once known. */
export function isDeferred(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return v.__pulumiOutput === true || v.__pulumiUnknown === true || typeof v.then === "function";
}
