/**
 * `drbdadm -d adjust RES` prints, one per line, the drbdsetup commands that `adjust` would run to
 * bring the running resource to its configuration file; nothing when they agree. DRBD 8.4's
 * drbdadm (drbdadm-84 under drbd-utils 9) calls the tool `drbdsetup-84`, with its directory when
 * run by path, and sets changed options with `--set-defaults` followed by every option the file
 * has, so a line shows the file's values, not the running ones.
 */

/** The commands that change options of a running resource; anything else (new-resource, attach, connect…) brings a resource up. */
const OPTION_COMMANDS = new Set(["disk-options", "net-options", "resource-options", "peer-device-options"]);

const DRBDSETUP_LINE = /^(?:\S*\/)?drbdsetup(?:-8[34])?\s+(\S+)(.*)$/;

/**
 * The option changes in a dry run's output, trimmed, the program named `drbdsetup` whatever the
 * dry run called it. Commands that would attach, connect or create the resource are left out: they
 * mean it is down or disconnected, which its status already shows.
 */
export function parseAdjustDryRun(text: string): string[] {
  const changes: string[] = [];
  for (const line of text.split("\n")) {
    const match = DRBDSETUP_LINE.exec(line.trim());
    if (!match || !OPTION_COMMANDS.has(match[1]!)) continue;
    const args = match[2]!.trim();
    changes.push(hideSecrets(`drbdsetup ${match[1]}${args === "" ? "" : ` ${args}`}`));
  }
  return changes;
}

/** A file's shared secret would otherwise be copied into the state with the net options (drbdadm escapes with backslashes). */
function hideSecrets(line: string): string {
  return line.replace(/(--shared-secret=)(?:\\.|[^\s\\])*/g, "$1***");
}
