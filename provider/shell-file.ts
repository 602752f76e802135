/**
 * Shell programs kept as files beside the modules that send them (the build copies them beside the
 * compiled modules), so that ShellCheck reads them and values never get spliced into their text.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

const texts = new Map<string, string>();

/** The text of `name` in `directory` (a module's `__dirname`), read once. */
export function shellFile(directory: string, name: string): string {
  const file = path.join(directory, name);
  let text = texts.get(file);
  if (text === undefined) {
    text = readFileSync(file, "utf8");
    texts.set(file, text);
  }
  return text;
}

/** The marker in a program that is sent after settings of its own: the lines below it are its body. */
export const BODY_MARKER = "# --- body ---\n";

/** The lines below `BODY_MARKER` in `name`: what follows the settings a module writes as quoted assignments. */
export function shellFileBody(directory: string, name: string): string {
  const text = shellFile(directory, name);
  const at = text.indexOf(BODY_MARKER);
  if (at < 0) throw new Error(`${name} has no "${BODY_MARKER.trim()}" line`);
  return text.slice(at + BODY_MARKER.length);
}
