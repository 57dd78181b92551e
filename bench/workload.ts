/**
 * The process under measurement, forked by run.ts: it plays one provider
 * process serving a big `pulumi up`, creating every declared resource at once.
 * Strategy "package" calls the package's own handlers (check, then create with
 * a stack config pointing at the simulator, as the shim does); strategy "naive"
 * runs the naive client loop of naive.ts. Commands arrive over IPC; the
 * simulator (in the parent) counts the requests.
 */
import type { RegionCopyInputs, RegionCopyState } from "../provider/dynamic/image-region-copy";
import type { SnapshotInputs, SnapshotState } from "../provider/dynamic/snapshot-from-backup";
import type { StackConfig } from "../provider/dynamic";
import { NaiveClient, naiveCreate } from "./naive";
import { loadDynamic, loadSession, type DynamicModule } from "./package";
import type { Declaration } from "./scenario";
import type { Command, FailureInfo, Reply } from "./protocol";

interface Created {
  id: string;
  inputs: Record<string, unknown>;
  outs: Record<string, unknown>;
}

const scale = Number(process.env.DO_IMAGE_ACTIONS_TIME_SCALE);
let declarations: Declaration[] = [];
let created: (Created | undefined)[] = [];
let dynamic: DynamicModule | undefined;
/** Lines the handlers logged (Pulumi would show them as diagnostics); counted, not printed. */
let logLines = 0;
console.log = () => {
  logLines += 1;
};

function send(reply: Reply): void {
  process.send!(reply);
}

function failureInfo(error: unknown): FailureInfo {
  const e = error as { name?: string; message?: string; status?: number; cause?: unknown; constructor?: { name?: string } };
  const causeName = (e.cause as { constructor?: { name?: string } } | undefined)?.constructor?.name;
  const kind = e.constructor?.name ?? e.name ?? "Error";
  const rateLimited = kind === "RateLimitError" || causeName === "RateLimitError" || e.status === 429 || /\b429\b|rate limit/i.test(e.message ?? "");
  return { kind, message: String(e.message ?? error).slice(0, 500), rateLimited };
}

function connection(url: string, token: string): StackConfig {
  return { "digitalocean:token": token, "digitalocean:apiEndpoint": url };
}

async function checked(d: Declaration, olds: unknown = undefined): Promise<Record<string, unknown>> {
  const result = await dynamic!.handlers[d.kind].check(olds, { ...d.inputs });
  if (result.failures && result.failures.length > 0) throw new Error(`check failed: ${JSON.stringify(result.failures)}`);
  return result.inputs as Record<string, unknown>;
}

/** check, then create: what the engine asks the provider for a new resource. */
async function createWithPackage(d: Declaration, config: StackConfig): Promise<Created> {
  const inputs = await checked(d);
  const result =
    d.kind === "ImageRegionCopy"
      ? await dynamic!.handlers.ImageRegionCopy.create(inputs as unknown as RegionCopyInputs, config)
      : await dynamic!.handlers.SnapshotFromBackup.create(inputs as unknown as SnapshotInputs, config);
  return { id: result.id, inputs, outs: result.outs as Record<string, unknown> };
}

/** check, then diff against the stored state: what `pulumi preview` and a no-change `pulumi up` ask. */
async function diffWithPackage(d: Declaration, c: Created): Promise<boolean> {
  const news = await checked(d, c.inputs);
  const result =
    d.kind === "ImageRegionCopy"
      ? await dynamic!.handlers.ImageRegionCopy.diff(c.id, c.outs as unknown as RegionCopyState, news as unknown as RegionCopyInputs)
      : await dynamic!.handlers.SnapshotFromBackup.diff(c.id, c.outs as unknown as SnapshotState, news as unknown as SnapshotInputs);
  return result.changes !== false;
}

/** read: what `pulumi refresh` (or `up --refresh`) asks for each resource. */
async function readWithPackage(d: Declaration, c: Created, config: StackConfig): Promise<void> {
  if (d.kind === "ImageRegionCopy") await dynamic!.handlers.ImageRegionCopy.read(c.id, c.outs as unknown as RegionCopyState, config);
  else await dynamic!.handlers.SnapshotFromBackup.read(c.id, c.outs as unknown as SnapshotState, config);
}

/**
 * Runs `work` for every declaration at once (with `createdOnly`, only for those
 * whose create succeeded: the others are not in state); collects failures and
 * the clock time it took.
 */
async function runAll(work: (d: Declaration, i: number) => Promise<void>, createdOnly = false): Promise<{ clockMs: number; failures: FailureInfo[] }> {
  const startedAt = performance.now();
  const outcomes = await Promise.allSettled(declarations.map((d, i) => (createdOnly && !created[i] ? Promise.resolve() : work(d, i))));
  const clockMs = (performance.now() - startedAt) / scale;
  const failures = outcomes.flatMap((o) => (o.status === "rejected" ? [failureInfo(o.reason)] : []));
  return { clockMs, failures };
}

async function handle(command: Command): Promise<void> {
  switch (command.cmd) {
    case "create": {
      declarations = command.declarations;
      created = new Array<Created | undefined>(declarations.length);
      const config = connection(command.url, command.token);
      let naive: NaiveClient | undefined;
      if (command.strategy === "package") {
        dynamic = loadDynamic();
        // On a scaled clock the provider first reads the simulator's clock, once per process, with a
        // blocking child process (half a second, minutes of clock time here). Against DigitalOcean
        // there is no such read, so it is paid before the timed run rather than counted in it.
        loadSession().getSession({ token: command.token, apiEndpoint: command.url });
      } else naive = new NaiveClient(command.url, command.token, scale);
      const { clockMs, failures } = await runAll(async (d, i) => {
        if (naive) await naiveCreate(naive, d);
        else created[i] = await createWithPackage(d, config);
      });
      await naive?.close();
      send({ reply: "create", clockMs, failures, maxRssKb: process.resourceUsage().maxRSS, logLines, naive429: naive?.tooManyRequests ?? 0 });
      return;
    }
    case "diff": {
      let changed = 0;
      const { clockMs, failures } = await runAll(async (d, i) => {
        if (await diffWithPackage(d, created[i]!)) changed += 1;
      }, true);
      send({ reply: "diff", clockMs, failures, changed });
      return;
    }
    case "refresh": {
      const config = connection(command.url, command.token);
      const { clockMs, failures } = await runAll((d, i) => readWithPackage(d, created[i]!, config), true);
      send({ reply: "refresh", clockMs, failures });
      return;
    }
    case "adopt": {
      const config = connection(command.url, command.token);
      let adopted = 0;
      const { clockMs, failures } = await runAll(async (d, i) => {
        const again = await createWithPackage(d, config);
        if (again.id === created[i]!.id) adopted += 1;
      }, true);
      send({ reply: "adopt", clockMs, failures, adopted });
      return;
    }
    case "exit":
      process.exit(0);
  }
}

process.on("message", (command: Command) => {
  handle(command).catch((error: unknown) => send({ reply: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
});
send({ reply: "ready" });
