/**
 * The two toolstacks behind one interface: `xl` (Xen 4.5 and later, the default) and `xm` (xend,
 * the seed's). Builders only: each returns the command as `Shell`, nothing is run here.
 */
import { literal, script, sh, type Shell } from "../shell";
import { SURVEY_MARKER } from "./list";
import { buildSendSaveImageCommand, MIGRATION_KEY_PATH, migrationSshCommand, SAVE_DIR, saveImagePath } from "./migration";

/** `timeout`'s exit code when the time ran out: the guest did not finish shutting down. */
export const SHUTDOWN_TIMED_OUT = 124;

export interface MigrationTarget {
  /** What the source dials on the crossover link (the seed's `ha2X`). */
  address: string;
}

/** One step of a move that is not a live migration, run on the source or on the target dom0. */
export interface MoveStep {
  on: "source" | "target";
  command: Shell;
  /** Why this step exists, for progress messages. */
  description: string;
}

/**
 * The steps of a non-live move, and what brings the guest back on the source when a step after
 * the guest left it fails (the saved image is kept on the source until the target runs it).
 */
export interface NonLiveMove {
  steps: MoveStep[];
  /** Run on the source when a step after the first fails. */
  recovery?: Shell;
  /** Run on both sides at the end, whatever happened. */
  cleanup?: Shell;
}

export interface Toolstack {
  readonly kind: "xl" | "xm";
  /** Starts the guest from its config file. */
  create(configPath: string): Shell;
  /** Asks the guest to shut down and waits, for at most `waitSeconds` (then exits with SHUTDOWN_TIMED_OUT). */
  shutdown(name: string, waitSeconds: number): Shell;
  /** Pulls the plug. */
  destroy(name: string): Shell;
  /** The table of domains. */
  list(): Shell;
  /** The hypervisor's facts (`virt_caps`, memory, version). */
  info(): Shell;
  /** Sets a running guest's memory through its balloon driver. */
  memSet(name: string, memoryMiB: number): Shell;
  /** Brings vCPUs of a running guest on or off line. */
  vcpuSet(name: string, vcpus: number): Shell;
  /** Live migration to the peer. */
  migrate(name: string, target: MigrationTarget): Shell;
  /** A move that pauses the guest, for hosts where a live migration is impossible. */
  nonLiveMove(name: string, target: MigrationTarget): NonLiveMove;
  /** Suspends the guest to a file and removes it from the host. */
  save(name: string, file: string): Shell;
  /** Resumes a guest from a file written by `save`. */
  restore(file: string): Shell;
}

export const xl: Toolstack = {
  kind: "xl",
  create: (configPath) => sh`xl create ${configPath}`,
  shutdown: (name, waitSeconds) => sh`timeout ${waitSeconds} xl shutdown -w ${name}`,
  destroy: (name) => sh`xl destroy ${name}`,
  list: () => literal("xl list"),
  info: () => literal("xl info"),
  memSet: (name, memoryMiB) => sh`xl mem-set ${name} ${`${memoryMiB}m`}`,
  vcpuSet: (name, vcpus) => sh`xl vcpu-set ${name} ${vcpus}`,
  // xl hands -s to sh as "exec <ssh command> <host> xl migrate-receive", so it is one quoted word here.
  migrate: (name, target) => sh`xl migrate -s ${migrationSshCommand().text} ${name} ${target.address}`,
  nonLiveMove: (name, target) => {
    const file = saveImagePath(name);
    return {
      steps: [
        { on: "source", command: script(sh`mkdir -p ${SAVE_DIR}`, sh`xl save ${name} ${file}`), description: `suspend ${name} to ${file}` },
        { on: "source", command: buildSendSaveImageCommand(name, target.address), description: "copy the image over the crossover link" },
        { on: "target", command: sh`xl restore ${file}`, description: `resume ${name} from the image` },
      ],
      recovery: sh`xl restore ${file}`,
      cleanup: sh`rm -f ${file} ${`${file}.part`}`,
    };
  },
  save: (name, file) => sh`xl save ${name} ${file}`,
  restore: (file) => sh`xl restore ${file}`,
};

export const xm: Toolstack = {
  kind: "xm",
  create: (configPath) => sh`xm create ${configPath}`,
  shutdown: (name, waitSeconds) => sh`timeout ${waitSeconds} xm shutdown -w ${name}`,
  destroy: (name) => sh`xm destroy ${name}`,
  list: () => literal("xm list"),
  info: () => literal("xm info"),
  memSet: (name, memoryMiB) => sh`xm mem-set ${name} ${memoryMiB}`,
  vcpuSet: (name, vcpus) => sh`xm vcpu-set ${name} ${vcpus}`,
  // The seed's form. xend's relocation server on the peer (port 8002) receives it.
  migrate: (name, target) => sh`xm migrate ${name} ${target.address} --live`,
  // Without --live, xend suspends, copies and resumes through the same relocation server.
  nonLiveMove: (name, target) => ({ steps: [{ on: "source", command: sh`xm migrate ${name} ${target.address}`, description: `move ${name} with a pause (xm migrate without --live)` }] }),
  save: (name, file) => sh`xm save ${name} ${file}`,
  restore: (file) => sh`xm restore ${file}`,
};

export function toolstackFor(kind: "xl" | "xm"): Toolstack {
  switch (kind) {
    case "xl":
      return xl;
    case "xm":
      return xm;
  }
}

export interface SurveySubjects {
  /** DRBD resources whose `drbdadm role` is wanted. */
  drbdResources?: readonly string[];
  /** Bridges whose presence is wanted. */
  bridges?: readonly string[];
}

/**
 * One round trip per host: the domain list, the hypervisor's facts, the guest's config file as it
 * is on disk, (xl only) the limits the running guest was started with, then the roles of its DRBD
 * resources, its bridges and the migration key. `parseGuestSurvey` reads the output.
 */
export function buildGuestSurveyScript(toolstack: Toolstack, name: string, configPath: string, subjects: SurveySubjects = {}): Shell {
  const marker = literal(`echo '${SURVEY_MARKER}'`);
  return script(
    toolstack.list(),
    marker,
    toolstack.info(),
    marker,
    sh`if [ -f ${configPath} ]; then echo present; cat ${configPath}; echo; else echo absent; fi`,
    marker,
    toolstack.kind === "xl" ? sh`xl list -l ${name} 2>/dev/null || echo '[]'` : literal("echo '[]'"),
    marker,
    ...(subjects.drbdResources ?? []).map(
      (res) => sh`if r=$(drbdadm role ${res} 2>&1); then s=ok; else s=error; fi
printf 'drbd %s %s %s\\n' ${res} "$s" "$(printf '%s' "$r" | tr '\\n' ' ')"`,
    ),
    ...(subjects.bridges ?? []).map((b) => sh`if [ -d ${`/sys/class/net/${b}/bridge`} ]; then echo ${`bridge ${b} yes`}; else echo ${`bridge ${b} no`}; fi`),
    sh`if [ -f ${MIGRATION_KEY_PATH} ]; then echo 'migration-key yes'; else echo 'migration-key no'; fi`,
  );
}
