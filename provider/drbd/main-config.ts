/**
 * A hand-written /etc/drbd.conf that defines its resources itself (the seed's), instead of
 * including one file per resource. The package's files would define those resources a second
 * time, which drbdadm refuses, so taking such a node over moves each resource block, as written,
 * into its own /etc/drbd.d/NAME.res, and /etc/drbd.conf becomes the include form. Pure.
 */

export interface ResourceBlock {
  name: string;
  /** The block as written, from `resource` to its closing brace, comments inside included. */
  text: string;
}

/** Where the file as it was is kept when it is replaced by the include form. */
export const SAVED_MAIN_CONFIG_PATH = "/etc/drbd.conf.before-pulumi-xen-ha";

/** The top-level `resource NAME { … }` blocks of a drbd.conf, skipping comments and quoted strings. */
export function resourceBlocksOf(text: string): ResourceBlock[] {
  const blocks: ResourceBlock[] = [];
  let depth = 0;
  let start = -1;
  let name = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "#") {
      const end = text.indexOf("\n", i);
      i = end === -1 ? text.length : end;
      continue;
    }
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      i = end === -1 ? text.length : end + 1;
      continue;
    }
    if (depth === 0) {
      const head = /^resource\s+([^\s{]+)\s*\{/.exec(text.slice(i));
      if (head && (i === 0 || /[\s;}]/.test(text[i - 1]!))) {
        start = i;
        name = head[1]!;
        depth = 1;
        i += head[0].length;
        continue;
      }
    }
    if (c === "{") depth++;
    else if (c === "}") {
      depth = Math.max(0, depth - 1);
      if (depth === 0 && start >= 0) {
        blocks.push({ name, text: `${text.slice(start, i + 1)}\n` });
        start = -1;
      }
    }
    i++;
  }
  return blocks;
}
