/** The command line of `npm run bench` and what each mode measures. Pure. */
import { PHASES, type Phase } from "./samples";

export type SyncMode = "skip" | "full";

export interface BenchOptions {
  /** 1 VM, one sample of each, the smallest volume only. */
  quick: boolean;
  /** Where the JSON, the table and the picture go. */
  outDir: string;
  /** The phases to run (default all). */
  phases: Phase[];
  /** Samples of each failover, migration, no-op and volume case; unset: each phase's own default. */
  runs?: number;
}

export const USAGE = `usage: npm run bench -- [--quick] [--runs N] [--phases build,noop,failover,migration,volume] [--out DIR]
  --quick     1 VM, one sample of each, 256 MiB volumes only
  --runs N    samples of each failover, migration, no-op and volume case (default: failover 3,
              no-op 2, migration 1 round trip, volume 1 per size; 1 of each with --quick)
  --phases    the phases to run, comma-separated (default all)
  --out DIR   where results.json, results.md and results.svg go (default bench/results)`;

export function parseArgs(argv: readonly string[], defaultOutDir: string): BenchOptions {
  let quick = false;
  let outDir = defaultOutDir;
  let phases: Phase[] = [...PHASES];
  let runs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    switch (arg) {
      case "--quick":
        quick = true;
        break;
      case "--out":
        outDir = value();
        break;
      case "--runs": {
        const v = value();
        if (!/^[1-9]\d{0,2}$/.test(v)) throw new Error(`--runs takes a whole number from 1 to 999, not ${JSON.stringify(v)}`);
        runs = Number(v);
        break;
      }
      case "--phases": {
        const names = value().split(",").map((p) => p.trim()).filter((p) => p !== "");
        const unknown = names.filter((p) => !(PHASES as readonly string[]).includes(p));
        if (unknown.length > 0 || names.length === 0) throw new Error(`--phases takes some of ${PHASES.join(", ")}; unknown: ${unknown.join(", ") || "(none given)"}`);
        phases = PHASES.filter((p) => names.includes(p));
        break;
      }
      case "--help":
      case "-h":
        throw new Error(USAGE);
      default:
        throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    }
  }
  return runs === undefined ? { quick, outDir, phases } : { quick, outDir, phases, runs };
}

/** What a run measures, decided by its options. */
export interface BenchPlan {
  /** Cluster sizes built from bare hosts, by the package and by the plain script. */
  buildVms: number[];
  /** The plain script's DRBD variants. */
  plainSyncs: SyncMode[];
  /** Cluster sizes at which no-op preview, refresh and up are measured. */
  noopVms: number[];
  /** Volume sizes (MiB) made until usable, skip-sync and full sync. */
  volumeSizesMiB: number[];
  runs: PhaseRuns;
  /**
   * Whether the package's last move of the guest is undone. The quick mode leaves the guest on the
   * other node, its home there, and its failover starts from that node: one move fewer.
   */
  packageMovesBack: boolean;
  phases: Phase[];
}

/** How many times each phase measures each of its cases. */
export interface PhaseRuns {
  failover: number;
  noop: number;
  /** Round trips: one move there and one back by each method. */
  migration: number;
  /** Per volume size. */
  volume: number;
}

/**
 * The full mode spends its runs where the lab is noisy and a run is cheap: failover is a race of
 * timers, worth a median of three; a 2 GiB full sync is linear and takes minutes, once per size.
 */
const FULL_RUNS: PhaseRuns = { failover: 3, noop: 2, migration: 1, volume: 1 };
const QUICK_RUNS: PhaseRuns = { failover: 1, noop: 1, migration: 1, volume: 1 };

function runsOf(o: BenchOptions): PhaseRuns {
  if (o.runs !== undefined) return { failover: o.runs, noop: o.runs, migration: o.runs, volume: o.runs };
  return o.quick ? QUICK_RUNS : FULL_RUNS;
}

export function planOf(o: BenchOptions): BenchPlan {
  return o.quick
    ? { buildVms: [1], plainSyncs: ["skip"], noopVms: [1], volumeSizesMiB: [256], runs: runsOf(o), packageMovesBack: false, phases: o.phases }
    : { buildVms: [1, 3], plainSyncs: ["skip", "full"], noopVms: [1, 3, 6], volumeSizesMiB: [256, 1024, 2048], runs: runsOf(o), packageMovesBack: true, phases: o.phases };
}
