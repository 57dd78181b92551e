/**
 * `npm run bench [-- --quick] [-- --scale 0.004]`: creates hundreds to
 * thousands of resources at once in one process, through the package's own
 * handlers and through a naive client loop, against the bundled simulator with
 * DigitalOcean's rate limits and realistic action durations on a scaled clock,
 * then one size again split between provider processes sharing one token. It
 * prints requests per resource against the minimal, 429s, wall time against the
 * floors, peak RSS and failures, then PASS/FAIL per target. The last line is one
 * JSON object.
 */
import { fork, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { parseArgs } from "node:util";
import type { SeedData, SeedImage, Simulator } from "../provider/simulator";
import { classify, perMinute, type RequestFigures } from "./figures";
import { floorMs, minimalRequests, minimalRequestsOfClients, physicalFloorMs, RATE, shareOf, type MinimalRequests } from "./floor";
import { loadSimulator } from "./package";
import type { Command, FailureInfo, Reply, Strategy } from "./protocol";
import { buildScenario, DURATIONS, type Scenario, type Size } from "./scenario";

const FULL_SIZES: Size[] = [
  { label: "100 copies + 100 snapshots", copies: 100, snapshots: 100 },
  { label: "1,000 copies + 100 snapshots", copies: 1000, snapshots: 100 },
];
const QUICK_SIZES: Size[] = [
  { label: "20 copies + 20 snapshots", copies: 20, snapshots: 20 },
  { label: "100 copies + 20 snapshots", copies: 100, snapshots: 20 },
];
/**
 * Real ms per clock ms. 0.005 runs the 1,000-resource run's ~80 clock minutes in
 * ~25 real seconds; a burst of 250 requests then has 300 real ms, which two
 * cores serve without the machine, rather than the rate limit, setting the pace.
 */
const DEFAULT_SCALE = 0.005;
/** Polls per resource above this are no longer "a small constant". */
const MAX_POLLS_PER_RESOURCE = 3;
const WALL_OVER_FLOOR_TARGET = 1.2;
const REQUESTS_OVER_MINIMAL_TARGET = 1.15;
/** Provider processes sharing one token, as parallel pipelines (one stack each) would. */
const PROCESSES = 4;
/** 429s received by processes sharing a token, as a share of their answered requests, that still count as pacing well. */
const MAX_RECEIVED_429_SHARE = 0.01;

interface StrategyResult {
  strategy: Strategy;
  resources: number;
  figures: RequestFigures;
  requestsPerResource: number;
  readsPerResource: number;
  writesPerResource: number;
  pollsPerResource: number;
  received429: number;
  surfaced429: number;
  failures: number;
  failureSamples: FailureInfo[];
  wallClockMs: number;
  /** The floor of this run's resources at the package's request count (the same for both strategies). */
  floorMs: number;
  /** The floor at this strategy's own request count. */
  ownFloorMs: number;
  wallOverFloor: number;
  /** The requests no correct client can avoid for this run's resources, and the time they and the longest action need. */
  minimal: MinimalRequests;
  physicalFloorMs: number;
  wallOverPhysicalFloor: number;
  requestsOverMinimal: number;
  peakRssMb: number;
  logLines: number;
  minutes: number[];
  /** Clock ms from the first request to the last action's start and to its completion. */
  lastActionStartMs: number;
  lastActionDoneMs: number;
}

interface RerunResult {
  previewRequests: number;
  previewChanged: number;
  refreshRequests: number;
  refreshWrites: number;
  adoptRequests: number;
  adoptWrites: number;
  adopted: number;
  failures: number;
}

/** One size's resources split between provider processes on one token and one account. */
interface MultiProcessResult {
  processes: number;
  resources: number;
  figures: RequestFigures;
  surfaced429: number;
  failures: number;
  failureSamples: FailureInfo[];
  wallClockMs: number;
  /** The minimal requests of every process doing its own share, each reading the account for itself. */
  minimalRequests: number;
  physicalFloorMs: number;
  wallOverPhysicalFloor: number;
  requestsOverMinimal: number;
  /** Wall time over that of the same resources in one process. */
  wallOverSingleProcess: number;
  minutes: number[];
}

interface SizeResult {
  scenario: Scenario;
  package: StrategyResult;
  naive: StrategyResult;
  rerun: RerunResult;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const minutes = (ms: number) => `${round(ms / 60_000, 1)} min`;

class Workload {
  private readonly child: ChildProcess;
  private pending: ((reply: Reply) => void) | undefined;
  /** Settles once the process has loaded and can take a command. */
  readonly ready: Promise<void>;

  constructor(scale: number) {
    this.child = fork(path.join(__dirname, "workload.js"), [], {
      env: { ...process.env, DO_IMAGE_ACTIONS_TIME_SCALE: String(scale) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let started!: () => void;
    this.ready = new Promise((resolve) => (started = resolve));
    this.child.on("message", (reply: Reply) => {
      if (reply.reply === "ready") return started();
      const pending = this.pending;
      this.pending = undefined;
      pending?.(reply);
    });
    this.child.on("exit", (code) => {
      if (this.pending) throw new Error(`the workload process exited with ${code} in the middle of a command`);
    });
  }

  async ask<R extends Reply["reply"]>(command: Command, expect: R): Promise<Extract<Reply, { reply: R }>> {
    await this.ready;
    const reply = await new Promise<Reply>((resolve) => {
      this.pending = resolve;
      this.child.send(command);
    });
    if (reply.reply === "error") throw new Error(`workload failed: ${reply.message}`);
    if (reply.reply !== expect) throw new Error(`workload answered ${reply.reply} to ${command.cmd}`);
    return reply as Extract<Reply, { reply: R }>;
  }

  stop(): void {
    this.child.send({ cmd: "exit" } satisfies Command);
  }
}

async function startSim(scale: number, seed: SeedData): Promise<Simulator> {
  return loadSimulator().startSimulator({ timeScale: scale, actionDurations: DURATIONS, rateLimit: RATE, seed });
}

/** A fresh account holding what `sim` holds now (images as they ended up), with fresh rate windows. */
function seedFrom(sim: Simulator, scenario: Scenario): SeedData {
  const images: SeedImage[] = sim.state
    .listImages({ privateOnly: true })
    .map((img) => ({
      id: img.id,
      name: img.name,
      type: img.type as SeedImage["type"],
      regions: img.regions,
      size_gigabytes: img.size_gigabytes ?? undefined,
      created_at: img.created_at,
      description: img.description,
      tags: img.tags ?? undefined,
      droplet_id: scenario.dropletOfImage.get(img.id),
    }));
  // The same account too: the resources recorded it, and a 404 is judged against it.
  return { droplets: (scenario.seed.droplets ?? []).map((d) => ({ ...d, backups: [] })), images, account: sim.account };
}

function strategyResult(strategy: Strategy, scenario: Scenario, sim: Simulator, reply: Extract<Reply, { reply: "create" }>, packageRequests: number | undefined): StrategyResult {
  const log = sim.requests();
  const figures = classify(log);
  const n = scenario.declarations.length;
  const floor = floorMs(packageRequests ?? figures.requests, scenario.longestActionMs);
  const minimal = minimalRequests(shareOf(scenario.seed, scenario.declarations));
  const physicalFloor = physicalFloorMs(minimal.total, scenario.longestActionMs);
  const first = log[0]?.clockMs ?? 0;
  const actions = sim.state.listActions();
  const latest = (times: (string | null)[]) => Math.max(0, ...times.map((t) => (t === null ? 0 : Date.parse(t) - first)));
  return {
    strategy,
    resources: n,
    figures,
    requestsPerResource: round(figures.requests / n),
    readsPerResource: round(figures.reads / n),
    writesPerResource: round(figures.writes / n),
    pollsPerResource: round(figures.polls / n),
    received429: figures.received429,
    surfaced429: reply.failures.filter((f) => f.rateLimited).length,
    failures: reply.failures.length,
    failureSamples: reply.failures.slice(0, 3),
    wallClockMs: reply.clockMs,
    floorMs: floor,
    ownFloorMs: floorMs(figures.requests, scenario.longestActionMs),
    wallOverFloor: round(reply.clockMs / floor),
    minimal,
    physicalFloorMs: physicalFloor,
    wallOverPhysicalFloor: round(reply.clockMs / physicalFloor),
    requestsOverMinimal: round(figures.requests / minimal.total),
    peakRssMb: round(reply.maxRssKb / 1024, 1),
    logLines: reply.logLines,
    minutes: perMinute(log),
    lastActionStartMs: latest(actions.map((a) => a.started_at)),
    lastActionDoneMs: latest(actions.map((a) => a.completed_at)),
  };
}

async function runStrategy(strategy: Strategy, scenario: Scenario, scale: number, packageRequests: number | undefined): Promise<{ result: StrategyResult; rerun?: RerunResult }> {
  const sim = await startSim(scale, scenario.seed);
  const workload = new Workload(scale);
  try {
    const reply = await workload.ask({ cmd: "create", strategy, url: sim.url, token: sim.token, declarations: scenario.declarations }, "create");
    const result = strategyResult(strategy, scenario, sim, reply, packageRequests);
    if (strategy === "naive") return { result };

    // A no-change `pulumi preview` / `pulumi up`: check and diff for every resource.
    sim.resetRequests();
    const diff = await workload.ask({ cmd: "diff" }, "diff");
    const previewRequests = sim.requests().length;
    // `pulumi refresh` and a second stack declaring the same resources, on an account
    // holding what the first run made, with fresh rate windows.
    const again = await startSim(scale, seedFrom(sim, scenario));
    try {
      const refresh = await workload.ask({ cmd: "refresh", url: again.url, token: again.token }, "refresh");
      const refreshed = classify(again.requests());
      again.resetRequests();
      const adopt = await workload.ask({ cmd: "adopt", url: again.url, token: again.token }, "adopt");
      const adopted = classify(again.requests());
      return {
        result,
        rerun: {
          previewRequests,
          previewChanged: diff.changed,
          refreshRequests: refreshed.requests,
          refreshWrites: refreshed.writes,
          adoptRequests: adopted.requests,
          adoptWrites: adopted.writes,
          adopted: adopt.adopted,
          failures: diff.failures.length + refresh.failures.length + adopt.failures.length,
        },
      };
    } finally {
      await again.close();
    }
  } finally {
    workload.stop();
    await sim.close();
  }
}

/**
 * Runs `processes` workload processes at once against one simulator with one
 * token, each creating every `processes`-th resource (so each has copies and
 * snapshots), and compares the wall time with `single`, the same resources in one process.
 */
async function runProcesses(scenario: Scenario, scale: number, processes: number, single: StrategyResult): Promise<MultiProcessResult> {
  const sim = await startSim(scale, scenario.seed);
  const shares = Array.from({ length: processes }, (_, p) => scenario.declarations.filter((_d, i) => i % processes === p));
  const workloads = shares.map(() => new Workload(scale));
  try {
    // Loading the package takes a while on a busy machine; start every process's creates together.
    await Promise.all(workloads.map((w) => w.ready));
    const replies = await Promise.all(
      workloads.map((w, p) => w.ask({ cmd: "create", strategy: "package", url: sim.url, token: sim.token, declarations: shares[p] }, "create")),
    );
    const log = sim.requests();
    const figures = classify(log);
    const failures = replies.flatMap((r) => r.failures);
    const wallClockMs = Math.max(...replies.map((r) => r.clockMs));
    const minimal = minimalRequestsOfClients(shares.map((share) => shareOf(scenario.seed, share)));
    const physicalFloor = physicalFloorMs(minimal, scenario.longestActionMs);
    return {
      processes,
      resources: scenario.declarations.length,
      figures,
      surfaced429: failures.filter((f) => f.rateLimited).length,
      failures: failures.length,
      failureSamples: failures.slice(0, 3),
      wallClockMs,
      minimalRequests: minimal,
      physicalFloorMs: physicalFloor,
      wallOverPhysicalFloor: round(wallClockMs / physicalFloor),
      requestsOverMinimal: round(figures.requests / minimal),
      wallOverSingleProcess: round(wallClockMs / single.wallClockMs),
      minutes: perMinute(log),
    };
  } finally {
    for (const w of workloads) w.stop();
    await sim.close();
  }
}

function printProcesses(m: MultiProcessResult): void {
  const f = m.figures;
  console.log(`  package, ${m.processes} provider processes on one token`);
  console.log(`    requests ${f.requests}: ${f.reads} reads, ${f.writes} writes, ${f.polls} polls; minimal ${m.minimalRequests} (each process reads for itself): ${m.requestsOverMinimal}x`);
  console.log(`    429s received ${f.received429} (${round((100 * f.received429) / Math.max(1, f.requests), 1)}% of requests), surfaced as failures ${m.surfaced429}; failures ${m.failures}${m.failureSamples.map((s) => `\n      ${s.kind}: ${s.message}`).join("")}`);
  console.log(
    `    wall ${minutes(m.wallClockMs)} of clock time: ${m.wallOverSingleProcess}x one process; physical floor ${minutes(m.physicalFloorMs)}: ${m.wallOverPhysicalFloor}x`,
  );
  console.log(`    answered requests per clock minute: ${m.minutes.join(" ")}`);
}

function printStrategy(label: string, r: StrategyResult): void {
  const f = r.figures;
  console.log(`  ${label}`);
  console.log(
    `    requests/resource ${r.requestsPerResource} = reads ${r.readsPerResource} + writes ${r.writesPerResource} + polls ${r.pollsPerResource}` +
      `   (total ${f.requests}: ${f.reads} reads, ${f.writes} writes, ${f.polls} polls)`,
  );
  console.log(`    by route: ${Object.entries(f.byRoute).sort((a, b) => b[1] - a[1]).map(([route, count]) => `${route} ${count}`).join(", ")}`);
  console.log(`    429s received ${r.received429}, surfaced as failures ${r.surfaced429}; failures ${r.failures}${r.failureSamples.map((s) => `\n      ${s.kind}: ${s.message}`).join("")}`);
  console.log(
    `    wall ${minutes(r.wallClockMs)} of clock time, floor ${minutes(r.floorMs)} (at ${label.startsWith("naive") ? "the package's" : "its"} request count` +
      `${label.startsWith("naive") ? `; ${minutes(r.ownFloorMs)} at its own` : ""}): ${r.wallOverFloor}x`,
  );
  const m = r.minimal;
  console.log(
    `    physical floor ${minutes(r.physicalFloorMs)} (${m.total} minimal requests: ${m.writes} writes, ${m.imageReads} image reads, ` +
      `${m.actionScan} action scan, ${m.confirmations} confirmations; plus the longest action): wall ${r.wallOverPhysicalFloor}x, requests ${r.requestsOverMinimal}x`,
  );
  console.log(
    `    last write at ${minutes(f.lastWriteMs)}, last action started at ${minutes(r.lastActionStartMs)} and done at ${minutes(r.lastActionDoneMs)}, ` +
      `last request at ${minutes(f.spanMs)}`,
  );
  console.log(`    peak RSS ${r.peakRssMb} MB; log lines ${r.logLines}`);
  console.log(`    answered requests per clock minute: ${r.minutes.join(" ")}`);
}

const mark = (ok: boolean) => (ok ? "PASS" : "FAIL");

function targets(results: SizeResult[], multi: MultiProcessResult): { name: string; ok: boolean; detail: string }[] {
  const pkgs = results.map((r) => r.package);
  const largest = pkgs[pkgs.length - 1];
  const received429Share = multi.figures.received429 / Math.max(1, multi.figures.requests);
  const polls = pkgs.map((p) => p.pollsPerResource);
  const pollsFlat = Math.max(...polls) <= MAX_POLLS_PER_RESOURCE && Math.max(...polls) <= 1.5 * Math.max(0.5, Math.min(...polls));
  return [
    { name: "0 failures", ok: pkgs.every((p) => p.failures === 0), detail: pkgs.map((p) => p.failures).join(" / ") },
    { name: "0 surfaced 429s", ok: pkgs.every((p) => p.surfaced429 === 0), detail: pkgs.map((p) => p.surfaced429).join(" / ") },
    { name: `polls per resource a small constant (<= ${MAX_POLLS_PER_RESOURCE}, independent of N)`, ok: pollsFlat, detail: polls.join(" / ") },
    { name: `wall time within ${WALL_OVER_FLOOR_TARGET}x of the floor`, ok: pkgs.every((p) => p.wallOverFloor <= WALL_OVER_FLOOR_TARGET), detail: pkgs.map((p) => `${p.wallOverFloor}x`).join(" / ") },
    {
      name: `wall time within ${WALL_OVER_FLOOR_TARGET}x of the physical floor`,
      ok: pkgs.every((p) => p.wallOverPhysicalFloor <= WALL_OVER_FLOOR_TARGET),
      detail: pkgs.map((p) => `${p.wallOverPhysicalFloor}x`).join(" / "),
    },
    {
      name: `requests within ${REQUESTS_OVER_MINIMAL_TARGET}x of the minimal at the largest size`,
      ok: largest.requestsOverMinimal <= REQUESTS_OVER_MINIMAL_TARGET,
      detail: `${largest.requestsOverMinimal}x at ${largest.resources} resources`,
    },
    {
      name: `${multi.processes} processes on one token: 0 failures, 0 surfaced 429s, 429s received <= ${100 * MAX_RECEIVED_429_SHARE}% of requests`,
      ok: multi.failures === 0 && multi.surfaced429 === 0 && received429Share <= MAX_RECEIVED_429_SHARE,
      detail: `${multi.failures} failures, ${multi.surfaced429} surfaced, ${multi.figures.received429} received (${round(100 * received429Share, 1)}%)`,
    },
    {
      name: `${multi.processes} processes on one token: wall time within ${WALL_OVER_FLOOR_TARGET}x of one process`,
      ok: multi.wallOverSingleProcess <= WALL_OVER_FLOOR_TARGET,
      detail: `${multi.wallOverSingleProcess}x at ${multi.resources} resources`,
    },
    {
      name: "no-change preview and re-run cost 0 writes (and 0 requests)",
      ok: results.every((r) => r.rerun.previewRequests === 0 && r.rerun.previewChanged === 0 && r.rerun.refreshWrites === 0),
      detail: results.map((r) => `preview ${r.rerun.previewRequests} requests, ${r.rerun.previewChanged} changes; refresh ${r.rerun.refreshWrites} writes`).join(" / "),
    },
    {
      name: "second create (adoption) costs 0 writes",
      ok: results.every((r) => r.rerun.adoptWrites === 0 && r.rerun.failures === 0 && r.rerun.adopted === r.package.resources - r.package.failures),
      detail: results.map((r) => `${r.rerun.adoptWrites} writes, ${r.rerun.adopted}/${r.package.resources - r.package.failures} created adopted`).join(" / "),
    },
  ];
}

function multiProcessSummary(m: MultiProcessResult) {
  return {
    processes: m.processes,
    resources: m.resources,
    requests: m.figures.requests,
    minimalRequests: m.minimalRequests,
    requestsOverMinimal: m.requestsOverMinimal,
    received429: m.figures.received429,
    surfaced429: m.surfaced429,
    failures: m.failures,
    wallClockMinutes: round(m.wallClockMs / 60_000),
    physicalFloorMinutes: round(m.physicalFloorMs / 60_000),
    wallOverPhysicalFloor: m.wallOverPhysicalFloor,
    wallOverSingleProcess: m.wallOverSingleProcess,
  };
}

function summary(r: StrategyResult) {
  return {
    resources: r.resources,
    requestsPerResource: r.requestsPerResource,
    readsPerResource: r.readsPerResource,
    writesPerResource: r.writesPerResource,
    pollsPerResource: r.pollsPerResource,
    received429: r.received429,
    surfaced429: r.surfaced429,
    failures: r.failures,
    wallClockMinutes: round(r.wallClockMs / 60_000),
    floorMinutes: round(r.floorMs / 60_000),
    wallOverFloor: r.wallOverFloor,
    requests: r.figures.requests,
    minimalRequests: r.minimal.total,
    physicalFloorMinutes: round(r.physicalFloorMs / 60_000),
    wallOverPhysicalFloor: r.wallOverPhysicalFloor,
    requestsOverMinimal: r.requestsOverMinimal,
    peakRssMb: r.peakRssMb,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: "boolean", default: false }, scale: { type: "string" }, size: { type: "string" }, "skip-naive": { type: "boolean", default: false } },
    strict: true,
  });
  const scale = values.scale === undefined ? DEFAULT_SCALE : Number(values.scale);
  if (!(scale > 0 && scale <= 1)) throw new Error(`--scale must be a number in (0, 1], got ${values.scale}`);
  const custom = values.size?.split(",").map(Number);
  if (custom && !(custom.length === 2 && custom.every((n) => Number.isInteger(n) && n >= 0))) throw new Error(`--size takes COPIES,SNAPSHOTS, got ${values.size}`);
  const sizes = custom ? [{ label: `${custom[0]} copies + ${custom[1]} snapshots`, copies: custom[0], snapshots: custom[1] }] : values.quick ? QUICK_SIZES : FULL_SIZES;
  const realStart = performance.now();
  console.log(
    `bench: time scale ${scale} (1 clock minute = ${round(60_000 * scale)} real ms); limits ${RATE.perMinute}/min, ${RATE.perHour}/h per token; ` +
      `convert ${DURATIONS.convertMs / 1000} s, transfer ${DURATIONS.transferMs / 1000} s, + ${DURATIONS.perGigabyteMs / 1000} s/GB`,
  );
  const results: SizeResult[] = [];
  for (const size of sizes) {
    const scenario = buildScenario(size);
    console.log(`\n== ${size.label}: ${scenario.declarations.length} resources, longest action ${minutes(scenario.longestActionMs)}`);
    const pkg = await runStrategy("package", scenario, scale, undefined);
    printStrategy("package (the provider's handlers, one process)", pkg.result);
    const rerun = pkg.rerun!;
    console.log(
      `    re-run: preview/no-change up ${rerun.previewRequests} requests, ${rerun.previewChanged} changes; refresh ${rerun.refreshRequests} requests, ` +
        `${rerun.refreshWrites} writes; second create (adoption) ${rerun.adoptRequests} requests, ${rerun.adoptWrites} writes, ${rerun.adopted} adopted`,
    );
    if (values["skip-naive"]) {
      results.push({ scenario, package: pkg.result, naive: pkg.result, rerun });
      continue;
    }
    const naive = await runStrategy("naive", scenario, scale, pkg.result.figures.requests);
    printStrategy(`naive (GET per action every 5 s, retry 429 after retry-after, no shared limiter)`, naive.result);
    results.push({ scenario, package: pkg.result, naive: naive.result, rerun });
  }

  // Several pipelines on one token, on a size run above so that its single-process run is the comparison:
  // the full run's 200 resources, where the per-minute limit governs, or the quick run's 120 (its 40
  // leave 4 processes too little to do to meet the limit at all).
  const split = results[values.quick ? results.length - 1 : 0];
  console.log(`\n== ${split.scenario.size.label} again, split between ${PROCESSES} provider processes sharing one token`);
  const multi = await runProcesses(split.scenario, scale, PROCESSES, split.package);
  printProcesses(multi);

  console.log(`\nTargets (package strategy; all runs):`);
  const checked = targets(results, multi);
  for (const t of checked) console.log(`  ${mark(t.ok)}  ${t.name}: ${t.detail}`);
  console.log(`\nbench took ${round((performance.now() - realStart) / 1000, 1)} real s`);

  const largest = results[results.length - 1];
  console.log(
    JSON.stringify({
      scale,
      ...summary(largest.package),
      naive: summary(largest.naive),
      rerun: largest.rerun,
      targets: Object.fromEntries(checked.map((t) => [t.name, t.ok])),
      runs: results.map((r) => ({ label: r.scenario.size.label, package: summary(r.package), naive: summary(r.naive), rerun: r.rerun })),
      multiProcess: multiProcessSummary(multi),
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
