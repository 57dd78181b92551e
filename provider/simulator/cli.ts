#!/usr/bin/env node
/**
 * Runs the simulator from the command line:
 * `do-image-actions-simulator --port 8080 --seed examples/seed.json --time-scale 0.01`.
 * The first line printed is `listening on <url>`; without `--token` the next is
 * `token: <token>` (a token given with `--token` is not echoed). Bad flags exit
 * with status 2.
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import type { FaultConfig } from "./faults";
import { loadSeed, startSimulator, type SimulatorOptions } from "./index";

/** The example seed the package ships, from dist/provider/simulator/. */
const EXAMPLE_SEED = path.resolve(__dirname, "..", "..", "..", "examples", "seed.json");

const HELP = `Usage: do-image-actions-simulator [flags]

Serves a simulated DigitalOcean API (images, image actions, actions, Droplets,
backups, regions, tags) on loopback, plus /_sim/ inspection endpoints.

  --port N                  port to listen on; 0 picks a free one (default 0)
  --host H                  127.0.0.1 (default), ::1 or localhost
  --seed FILE               JSON seed with droplets, backups, images, tags, regions;
                            the package's example: ${EXAMPLE_SEED}
  --token T                 bearer token to accept, not printed (default: a random
                            one, printed on a second line: token: <token>)
  --time-scale S            real ms per simulated ms; 0.01 runs 100x faster (default 1)
  --convert-seconds N       duration of a convert action (default 60)
  --transfer-seconds N      duration of a transfer action (default 120)
  --seconds-per-gb N        extra action time per GB of image (default 0)
  --rate-per-minute N       requests per minute per token (default 250)
  --rate-per-hour N         requests per hour per token (default 5000)
  --no-rate-limit           disable rate limiting
  --fault-seed N            PRNG seed for faults (default 1)
  --server-error-rate P     share of requests answered 500/502/503, not performed
  --drop-rate P             share of connections dropped before answering, not performed
  --lost-response-rate P    share performed whose response is then lost
  --throttle-rate P         share answered 429 (a "429 storm")
  --storm-retry-after N     retry-after seconds of storm 429s (default 1)
  --latency-ms N|MIN-MAX    added latency in simulated ms
  --errored-action-rate P   share of actions that end errored
  --fault-route TEMPLATE    restrict faults to a route, e.g. "POST /v2/images/:id/actions"; repeatable
  --help                    show this help

Shares P are numbers from 0 to 1.`;

/** A flag's value is unusable: the message names the flag, the value and the fix. */
class UsageError extends Error {}

function num(flag: string, raw: string | undefined, ok: (n: number) => boolean, fix: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === "" || !ok(n)) throw new UsageError(`--${flag} got "${raw}": ${fix}`);
  return n;
}

const isShare = (n: number) => n >= 0 && n <= 1;
const isCount = (n: number) => Number.isInteger(n) && n > 0;
const isNonNeg = (n: number) => Number.isFinite(n) && n >= 0;

function parse(argv: string[]): SimulatorOptions | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        seed: { type: "string" },
        token: { type: "string" },
        "time-scale": { type: "string" },
        "convert-seconds": { type: "string" },
        "transfer-seconds": { type: "string" },
        "seconds-per-gb": { type: "string" },
        "rate-per-minute": { type: "string" },
        "rate-per-hour": { type: "string" },
        "no-rate-limit": { type: "boolean" },
        "fault-seed": { type: "string" },
        "server-error-rate": { type: "string" },
        "drop-rate": { type: "string" },
        "lost-response-rate": { type: "string" },
        "throttle-rate": { type: "string" },
        "storm-retry-after": { type: "string" },
        "latency-ms": { type: "string" },
        "errored-action-rate": { type: "string" },
        "fault-route": { type: "string", multiple: true },
        help: { type: "boolean" },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}. Run with --help for the list of flags.`);
  }
  if (values.help) return "help";

  const v = values;
  const share = (flag: keyof typeof v) => num(flag, v[flag] as string | undefined, isShare, "expected a share from 0 to 1, e.g. 0.1");
  const seconds = (flag: keyof typeof v) => {
    const s = num(flag, v[flag] as string | undefined, isNonNeg, "expected a number of seconds >= 0, e.g. 60");
    return s === undefined ? undefined : s * 1000;
  };
  const faults: FaultConfig = {
    seed: num("fault-seed", v["fault-seed"], Number.isInteger, "expected an integer, e.g. 42"),
    serverErrorRate: share("server-error-rate"),
    dropRate: share("drop-rate"),
    lostResponseRate: share("lost-response-rate"),
    tooManyRequestsRate: share("throttle-rate"),
    stormRetryAfterSeconds: num("storm-retry-after", v["storm-retry-after"], isCount, "expected whole seconds >= 1, e.g. 2"),
    erroredActionRate: share("errored-action-rate"),
    latencyMs: latency(v["latency-ms"]),
    routes: v["fault-route"],
  };
  if (v["no-rate-limit"] && (v["rate-per-minute"] || v["rate-per-hour"])) {
    throw new UsageError("--no-rate-limit cannot be combined with --rate-per-minute or --rate-per-hour: drop one of them");
  }
  const perMinute = num("rate-per-minute", v["rate-per-minute"], isCount, "expected a positive integer, e.g. 250");
  const perHour = num("rate-per-hour", v["rate-per-hour"], isCount, "expected a positive integer, e.g. 5000");
  let seed;
  if (v.seed !== undefined) {
    try {
      seed = loadSeed(v.seed);
    } catch (err) {
      throw new UsageError(`--seed got "${v.seed}": ${(err as Error).message}`);
    }
  }
  return {
    port: num("port", v.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, "expected an integer from 0 to 65535, e.g. 8080"),
    host: v.host,
    token: v.token,
    timeScale: num("time-scale", v["time-scale"], (n) => Number.isFinite(n) && n > 0, "expected a number > 0, e.g. 0.01 for 100x faster"),
    actionDurations: { convertMs: seconds("convert-seconds"), transferMs: seconds("transfer-seconds"), perGigabyteMs: seconds("seconds-per-gb") },
    rateLimit: v["no-rate-limit"] ? false : { perMinute: perMinute ?? 250, perHour: perHour ?? 5000 },
    faults: Object.fromEntries(Object.entries(faults).filter(([, x]) => x !== undefined)),
    seed,
  };
}

function latency(raw: string | undefined): FaultConfig["latencyMs"] {
  if (raw === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(raw.trim());
  if (!m || (m[2] !== undefined && Number(m[1]) > Number(m[2]))) {
    throw new UsageError(`--latency-ms got "${raw}": expected milliseconds like 200 or a range like 50-500`);
  }
  return m[2] === undefined ? Number(m[1]) : { min: Number(m[1]), max: Number(m[2]) };
}

async function main(): Promise<void> {
  let options;
  try {
    options = parse(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`error: ${err.message}`);
    process.exit(2);
  }
  if (options === "help") {
    console.log(HELP);
    return;
  }
  let sim;
  try {
    sim = await startSimulator(options);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    process.exit(err instanceof RangeError ? 2 : 1);
  }
  console.log(`listening on ${sim.url}`);
  if (options.token === undefined) console.log(`token: ${sim.token}`);
  const stop = () => {
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

void main();
