/**
 * examples/gitops: the program as the pipeline runs it (under Pulumi's mocks),
 * its rotation keys, the workflows' policy (npm test also runs a workflow
 * validator over them): actions and the CLI pinned, one run per stack, the
 * DigitalOcean token that can write only in the `up` job through its
 * environment, secrets never in a shell step, job time limits above the
 * program's waits; and the report script the workflows call, against fake
 * GitHub clients and synthetic state exports.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { backupDay, backupMonth } from "../../examples/gitops/rotation";
import { ActionErroredError } from "../../provider/waiter/errors/action-errored-error";
import { ActionTimeoutError } from "../../provider/waiter/errors/action-timeout-error";
import type { Action } from "../../provider/api/types";
import { capture, type CapturedResource } from "../engine/capture";

const EXAMPLE = join(__dirname, "..", "..", "examples", "gitops");
const WORKFLOWS = join(EXAMPLE, ".github", "workflows");
const PROJECT = "droplet-backups";

type Workflow = {
  on: Record<string, unknown>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
};
type Job = {
  if?: string;
  environment?: unknown;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  steps: Step[];
  "timeout-minutes"?: unknown;
};
type Step = { id?: string; if?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };

const workflow = (file: string) => load(readFileSync(join(WORKFLOWS, file), "utf8")) as Workflow;
/** The one job of a workflow file. */
const job = (file: string) => {
  const jobs = Object.values(workflow(file).jobs);
  expect(jobs).toHaveLength(1);
  return jobs[0];
};
const pulumiStep = (file: string) => job(file).steps.find((s) => s.uses?.startsWith("pulumi/actions@")) as Step;

async function registrations(config: Record<string, string>): Promise<Map<string, CapturedResource>> {
  const { resources } = await capture(
    () => {
      // A fresh module per run: the program registers its resources when loaded.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      jest.isolateModules(() => require("../../examples/gitops"));
    },
    { project: PROJECT, config: Object.fromEntries(Object.entries(config).map(([key, value]) => [`${PROJECT}:${key}`, value])) },
  );
  return new Map(resources.map((r) => [r.name, r]));
}

describe("rotation keys", () => {
  it("move to the new day only when the backup window has ended", () => {
    expect(backupDay(new Date("2026-06-02T03:59:59Z"), 4)).toBe("2026-06-01");
    expect(backupDay(new Date("2026-06-02T04:00:00Z"), 4)).toBe("2026-06-02");
    expect(backupDay(new Date("2026-06-02T00:00:00Z"), 0)).toBe("2026-06-02");
  });

  it("move to the new month on its first day's window end", () => {
    expect(backupMonth(new Date("2026-07-01T03:00:00Z"), 4)).toBe("2026-06");
    expect(backupMonth(new Date("2026-07-01T05:00:00Z"), 4)).toBe("2026-07");
  });
});

describe("the program", () => {
  it("keeps daily generations of the Droplet, copied to the DR region, and leaves them when removed", async () => {
    const byName = await registrations({ dropletId: "3164494" });

    expect([...byName.keys()]).toEqual(["daily"]);
    const vault = byName.get("daily");
    expect(vault?.inputs).toMatchObject({ dropletId: "3164494", keep: 7, copyToRegions: ["ams3"], waitTimeoutSeconds: 1800 });
    expect(vault?.inputs.rotationKey).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(vault?.options.retainOnDelete).toBe(true);
  });

  it("with archiveDropletId: a monthly snapshot of that Droplet, its copy wired by id", async () => {
    const byName = await registrations({ dropletId: "3164494", archiveDropletId: "3164495", drRegion: "fra1", backupWindowEndHour: "0" });

    expect([...byName.keys()].sort()).toEqual(["daily", "monthly", "monthly-dr"]);
    expect(byName.get("monthly")?.inputs).toMatchObject({ dropletId: "3164495", triggers: { month: expect.stringMatching(/^\d{4}-\d{2}$/) } });
    expect(byName.get("monthly")?.options.retainOnDelete).toBe(true);
    // The mocks give a resource the id "<name>-id".
    expect(byName.get("monthly-dr")?.inputs).toMatchObject({ imageId: "monthly-id", regions: ["fra1"] });
  });
});


/** `on:` as a string, a list or a map. */
function triggers(on: unknown): string[] {
  if (typeof on === "string") return [on];
  if (Array.isArray(on)) return on as string[];
  return Object.keys(on as Record<string, unknown>);
}

/** The UTC hours a cron's hour field lists: `4`, `10,16,22`, `*\/6`. */
function cronHours(field: string): number[] {
  const every = /^\*\/(\d+)$/.exec(field);
  if (every) return Array.from({ length: Math.ceil(24 / Number(every[1])) }, (_, i) => i * Number(every[1]));
  return field.split(",").map(Number);
}

function atLeast(version: string, minimum: string): boolean {
  const [a, b] = [version, minimum].map((v) => v.split(".").map(Number));
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

describe("the workflows", () => {
  const files = readdirSync(WORKFLOWS).sort();
  const texts = files.map((file) => readFileSync(join(WORKFLOWS, file), "utf8"));
  const DISPATCH_GUARD = "github.event_name != 'workflow_dispatch' || github.ref_name == github.event.repository.default_branch";
  const BACKEND = {
    PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
    AWS_ACCESS_KEY_ID: "${{ secrets.SPACES_ACCESS_KEY_ID }}",
    AWS_SECRET_ACCESS_KEY: "${{ secrets.SPACES_SECRET_ACCESS_KEY }}",
  };
  const PASSPHRASE = { PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" };
  const scriptSteps = (file: string) => job(file).steps.filter((s) => s.uses?.startsWith("actions/github-script@"));

  it("are a preview, an up and a drift check, one job each", () => {
    expect(files).toEqual(["pulumi-drift.yml", "pulumi-preview.yml", "pulumi-up.yml"]);
    for (const file of files) expect(pulumiStep(file)).toBeDefined();
  });

  it("pin every action of every workflow to a full commit, with its version in a comment", () => {
    for (const text of texts) {
      const uses = text.split("\n").filter((line) => /^\s*(- )?uses:/.test(line));
      expect(uses.length).toBeGreaterThanOrEqual(4);
      for (const line of uses) expect(line).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
  });

  it("never run on pull_request_target, nor hand out every secret at once", () => {
    for (const file of files) expect(triggers(workflow(file).on)).not.toContain("pull_request_target");
    for (const text of texts) expect(text).not.toMatch(/toJSON\(\s*secrets\s*\)|secrets\[/);
  });

  it("give the DigitalOcean token that can write to the up job only, through the production environment", () => {
    const doSecrets = Object.fromEntries(files.map((file) => [file, [...JSON.stringify(workflow(file)).matchAll(/secrets\.(DIGITALOCEAN\w*)/g)].map(([, name]) => name)]));
    expect(doSecrets).toEqual({ "pulumi-drift.yml": ["DIGITALOCEAN_READ_TOKEN"], "pulumi-preview.yml": [], "pulumi-up.yml": ["DIGITALOCEAN_TOKEN"] });
    const environments = Object.fromEntries(files.map((file) => [file, job(file).environment]));
    expect(environments).toEqual({ "pulumi-drift.yml": "drift", "pulumi-preview.yml": undefined, "pulumi-up.yml": "production" });

    // Within the up job, the Pulumi step alone: not the failure report, which reads state with the backend's credentials.
    const up = job("pulumi-up.yml");
    expect(up.steps.filter((s) => JSON.stringify(s).includes("DIGITALOCEAN"))).toEqual([pulumiStep("pulumi-up.yml")]);
    expect(pulumiStep("pulumi-up.yml").env).toEqual({ ...BACKEND, ...PASSPHRASE, DIGITALOCEAN_TOKEN: "${{ secrets.DIGITALOCEAN_TOKEN }}" });
    expect(pulumiStep("pulumi-drift.yml").env).toEqual({ ...BACKEND, ...PASSPHRASE, DIGITALOCEAN_TOKEN: "${{ secrets.DIGITALOCEAN_READ_TOKEN }}" });
    expect(pulumiStep("pulumi-preview.yml").env).toEqual({ ...BACKEND, ...PASSPHRASE });
    expect(scriptSteps("pulumi-up.yml")[0].env).toEqual({ ...BACKEND, PULUMI_STACK: "${{ vars.PULUMI_STACK }}", UP_STARTED_AT: "${{ steps.start.outputs.at }}" });
  });

  it("keep secrets out of shell steps (npm ci runs install scripts) and out of job-wide environments", () => {
    for (const file of files) {
      const { steps, env } = job(file);
      expect(JSON.stringify((workflow(file) as { env?: unknown }).env ?? {})).not.toContain("secrets.");
      expect(JSON.stringify(env ?? {})).not.toContain("secrets.");
      expect(steps.some((s) => s.run?.startsWith("npm ci"))).toBe(true);
      for (const step of steps.filter((s) => s.run !== undefined)) expect(JSON.stringify(step)).not.toContain("secrets.");
      for (const step of steps.filter((s) => JSON.stringify(s).includes("secrets."))) expect(step.uses).toMatch(/^(pulumi\/actions|actions\/github-script)@/);
    }
  });

  it("grant each job only the permissions it uses, and check out without keeping the token", () => {
    for (const file of files) expect(workflow(file).permissions).toEqual({});
    expect(job("pulumi-preview.yml").permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(job("pulumi-up.yml").permissions).toEqual({ contents: "read" });
    expect(job("pulumi-drift.yml").permissions).toEqual({ contents: "read", issues: "write" });
    for (const file of files) {
      const checkout = job(file).steps.find((s) => s.uses?.startsWith("actions/checkout@"));
      expect(checkout?.with).toEqual({ "persist-credentials": false });
    }
  });

  it("pass step outputs to the report script through env, never into its text", () => {
    for (const file of files) {
      for (const step of scriptSteps(file)) {
        expect(step.with?.script).toMatch(/require\("\.\/\.github\/scripts\/pulumi-report\.js"\)/);
        expect(step.with?.script).not.toContain("${{");
      }
    }
    expect(scriptSteps("pulumi-drift.yml")[0].env?.PREVIEW_OUTPUT).toBe("${{ steps.preview.outputs.output }}");
  });

  it("install the Pulumi CLI of .pulumi.version, 3.258.0 or later, and the Node.js of .nvmrc", () => {
    const version = readFileSync(join(EXAMPLE, ".pulumi.version"), "utf8").trim();
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(atLeast(version, "3.258.0")).toBe(true);
    expect(Number(readFileSync(join(EXAMPLE, ".nvmrc"), "utf8").trim())).toBeGreaterThanOrEqual(22);
    for (const file of files) {
      expect(pulumiStep(file).with).toMatchObject({ "pulumi-version-file": ".pulumi.version" });
      expect(pulumiStep(file).with?.["pulumi-version"]).toBeUndefined();
      const node = job(file).steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
      expect(node?.with).toEqual({ "node-version-file": ".nvmrc", cache: "npm" });
    }
  });

  it("preview pull requests of the repository's own branches into one comment, cut from the front, marked when the preview fails", () => {
    const preview = workflow("pulumi-preview.yml");
    expect(triggers(preview.on)).toEqual(["pull_request"]);
    expect(preview.concurrency).toEqual({ group: "pulumi-preview-${{ github.event.pull_request.number }}", "cancel-in-progress": true });
    expect(job("pulumi-preview.yml").if).toBe("github.event.pull_request.head.repo.full_name == github.repository && github.event.pull_request.user.login != 'dependabot[bot]'");
    expect(pulumiStep("pulumi-preview.yml")).toMatchObject({
      id: "preview",
      with: { command: "preview", diff: true, "comment-on-pr": true, "edit-pr-comment": true, "always-include-summary": true },
    });
    expect(scriptSteps("pulumi-preview.yml")).toHaveLength(1);
    expect(scriptSteps("pulumi-preview.yml")[0]).toMatchObject({ if: "failure() && steps.preview.outcome == 'failure'", env: { PULUMI_STACK: "${{ vars.PULUMI_STACK }}" } });
  });

  it("run up on a push to main, several times a day off the top of the hour, and by hand from the default branch only", () => {
    const up = workflow("pulumi-up.yml");
    expect(up.on).toMatchObject({ push: { branches: ["main"] }, workflow_dispatch: null });
    expect(job("pulumi-up.yml").if).toBe(DISPATCH_GUARD);
    const crons = (up.on.schedule as { cron: string }[]).map((s) => s.cron.split(" "));
    for (const [minute] of crons) expect(Number(minute)).toBeGreaterThan(0);
    const hours = crons.flatMap(([, hour]) => cronHours(hour)).sort((a, b) => a - b);
    const gaps = hours.map((hour, i) => (i + 1 < hours.length ? hours[i + 1] : hours[0] + 24) - hour);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(6);

    const step = pulumiStep("pulumi-up.yml");
    expect(step).toMatchObject({ id: "up", with: { command: "up", "comment-on-summary": true } });
    expect(step.with?.message).toEqual(expect.stringContaining("${{ github.sha }}"));
    expect(step.with?.message).toEqual(expect.stringContaining("${{ github.run_id }}"));
    // A typo in PULUMI_STACK must fail, not create an empty stack that converts and copies everything again.
    expect(step.with?.upsert).toBeUndefined();
    expect(job("pulumi-up.yml").steps.find((s) => s.id === "start")?.run).toBeDefined();
    expect(scriptSteps("pulumi-up.yml")[0].if).toBe("failure() && steps.up.outcome == 'failure'");
  });

  it("check drift nightly with a plan that succeeds, leaving the verdict to the report", () => {
    const drift = workflow("pulumi-drift.yml");
    expect(triggers(drift.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(job("pulumi-drift.yml").if).toBe(DISPATCH_GUARD);
    for (const { cron } of drift.on.schedule as { cron: string }[]) expect(Number(cron.split(" ")[0])).toBeGreaterThan(0);
    expect(pulumiStep("pulumi-drift.yml")).toMatchObject({ id: "preview", with: { command: "preview", refresh: true, "comment-on-summary": true } });
    expect(pulumiStep("pulumi-drift.yml").with?.["expect-no-changes"]).toBeUndefined();
    expect(scriptSteps("pulumi-drift.yml")[0].if).toBeUndefined();
  });

  it("run up and the drift check one at a time per stack, never cancelled", () => {
    const up = workflow("pulumi-up.yml");
    expect(up.concurrency).toEqual({ group: "pulumi-${{ vars.PULUMI_STACK }}", "cancel-in-progress": false });
    expect(workflow("pulumi-drift.yml").concurrency).toEqual(up.concurrency);
  });

  it("give up a time limit above the program's longest chain of waits: a convert, then the transfers", async () => {
    const wait = (await registrations({ dropletId: "3164494" })).get("daily")?.inputs.waitTimeoutSeconds as number;
    const limit = job("pulumi-up.yml")["timeout-minutes"] as number;
    expect(limit * 60).toBeGreaterThan(2 * wait + 10 * 60);
  });
});

type Params = Record<string, unknown>;
type Comment = { id: number; body: string };
type Issue = { number: number; body: string; user: { login: string }; pull_request?: object };
type Report = {
  planChanges(output: string): string[] | undefined;
  markPreviewFailed(args: { github: unknown; context: unknown; env: Params; dir: string }): Promise<void>;
  reportDrift(args: { github: unknown; context: unknown; core: unknown; env: Params }): Promise<void>;
  reportFailedUp(args: { core: unknown; exec: unknown; env: Params }): Promise<boolean>;
};
// Plain JavaScript, as actions/github-script requires it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const report = require("../../examples/gitops/.github/scripts/pulumi-report.js") as Report;

const STACK = "acme/droplet-backups/production";
const HEAD = "5f0c3e1a9b7d2c4e6f8a0b1c3d5e7f9a1b3c5d7e";
const RUN = "https://github.com/acme/infra/actions/runs/4242";
const context = {
  serverUrl: "https://github.com",
  repo: { owner: "acme", repo: "infra" },
  runId: 4242,
  payload: { pull_request: { number: 17, head: { sha: HEAD } } },
};
// What pulumi/actions v7.0.0 writes as its heading for this stack, and looks for with the marker.
const HEADING = "#### :tropical_drink: `preview` on droplet-backups/acme/droplet-backups/production";
const MARKER = "<summary>Pulumi report</summary>";

function fakeGitHub({ comments = [], issues = [] }: { comments?: Comment[]; issues?: Issue[] }) {
  const calls: [string, Params][] = [];
  const method =
    (name: string, data: unknown = {}) =>
    async (params: Params) => {
      calls.push([name, params]);
      return { data };
    };
  const github = {
    rest: {
      issues: {
        listComments: method("listComments", comments),
        updateComment: method("updateComment"),
        createComment: method("createComment"),
        listForRepo: method("listForRepo", issues),
        create: method("create"),
        update: method("update"),
      },
    },
    paginate: async (list: (params: Params) => Promise<{ data: unknown }>, params: Params) => (await list(params)).data,
  };
  const writes = () => calls.filter(([name]) => !name.startsWith("list"));
  return { github, calls, writes };
}

function fakeCore() {
  const core = {
    failed: undefined as string | undefined,
    summaryText: "",
    setFailed: (message: string) => void (core.failed = message),
    info: () => undefined,
    summary: {
      addRaw: (text: string) => ((core.summaryText += text), core.summary),
      write: async () => core.summary,
    },
  };
  return core;
}

describe("the report script: a failed preview", () => {
  const markFailed = (github: unknown) => report.markPreviewFailed({ github, context, env: { PULUMI_STACK: STACK }, dir: EXAMPLE });

  it("edits the comment pulumi/actions made, so that its next successful preview edits the same one again", async () => {
    const comments = [
      { id: 1, body: "Looks good to me" },
      { id: 2, body: `${HEADING}\n\nquoted by a reviewer, without the report` },
      { id: 3, body: `${HEADING}\n\n<details>\n${MARKER}\n<pre>\n~ 1 to update\n</pre>\n</details>` },
      { id: 4, body: `#### :tropical_drink: \`preview\` on droplet-backups/acme/droplet-backups/staging\n\n<details>\n${MARKER}\n</details>` },
    ];
    const { github, calls, writes } = fakeGitHub({ comments });
    await markFailed(github);

    expect(calls[0]).toEqual(["listComments", { owner: "acme", repo: "infra", issue_number: 17 }]);
    expect(writes()).toHaveLength(1);
    const [name, { comment_id, body }] = writes()[0] as [string, { comment_id: number; body: string }];
    expect([name, comment_id]).toEqual(["updateComment", 3]);
    expect(body).toContain(`The preview of ${HEAD} failed`);
    expect(body).toContain(RUN);
    expect(body).not.toContain("~ 1 to update");
    // pulumi/actions' own rule still finds it, and finds it first.
    expect([...comments.slice(0, 2), { id: 3, body }].find((c) => c.body.startsWith(HEADING) && c.body.includes(MARKER))?.id).toBe(3);
  });

  it("adds the comment when the pull request has none yet", async () => {
    const { github, writes } = fakeGitHub({ comments: [{ id: 1, body: "Looks good to me" }] });
    await markFailed(github);

    expect(writes()).toEqual([["createComment", { owner: "acme", repo: "infra", issue_number: 17, body: expect.stringMatching(/^#### :tropical_drink: `preview` on droplet-backups\/acme\/droplet-backups\/production\n/) }]]);
    expect((writes()[0][1] as { body: string }).body).toContain(MARKER);
  });
});

describe("the report script: drift", () => {
  const preview = (...summary: string[]) =>
    [
      `Previewing update (${STACK}):`,
      "    pulumi:pulumi:Stack: (same)",
      "    ~ pulumi-nodejs:dynamic:Resource: (update)",
      "        [urn=urn:pulumi:production::droplet-backups::pulumi-nodejs:dynamic:Resource::daily]",
      "Resources:",
      ...summary,
      "",
    ].join("\n");
  const DRIFTED = preview("    ~ 1 to update", "    2 unchanged");
  const CLEAN = preview("    3 unchanged");
  const drift = (github: unknown, output: string) => {
    const core = fakeCore();
    return report.reportDrift({ github, context, core, env: { PULUMI_STACK: STACK, PREVIEW_OUTPUT: output } }).then(() => core);
  };

  it("reads the planned changes from the preview's last summary, whatever their kind and colour", () => {
    expect(report.planChanges(DRIFTED)).toEqual(["~ 1 to update"]);
    expect(report.planChanges(preview("    + 1 to create", "    +-1 to replace", "    - 1 to delete", "    3 changes. 1 unchanged"))).toEqual(["+ 1 to create", "+-1 to replace", "- 1 to delete"]);
    expect(report.planChanges(preview("    \u001b[38;5;3m~ 1 to update\u001b[0m", "    2 unchanged"))).toEqual(["~ 1 to update"]);
    expect(report.planChanges(CLEAN)).toEqual([]);
    expect(report.planChanges("error: could not load the plugin")).toBeUndefined();
  });

  it("opens one issue with the plan and fails; the next drifted run updates that issue", async () => {
    const first = fakeGitHub({ issues: [] });
    const core = await drift(first.github, DRIFTED);

    expect(core.failed).toContain(`Drift on ${STACK}`);
    expect(first.writes()).toEqual([["create", { owner: "acme", repo: "infra", title: `Drift on ${STACK}`, body: expect.any(String) }]]);
    const body = (first.writes()[0][1] as { body: string }).body;
    expect(body).toContain("- `~ 1 to update`");
    expect(body).toContain("[urn=urn:pulumi:production::droplet-backups::pulumi-nodejs:dynamic:Resource::daily]");
    expect(body).toContain(RUN);

    const issues = [
      { number: 3, body, user: { login: "mallory" } },
      { number: 5, body, user: { login: "github-actions[bot]" }, pull_request: {} },
      { number: 8, body, user: { login: "github-actions[bot]" } },
    ];
    const second = fakeGitHub({ issues });
    expect((await drift(second.github, DRIFTED)).failed).toBeDefined();
    expect(second.writes()).toEqual([["update", { owner: "acme", repo: "infra", issue_number: 8, body: expect.stringContaining("~ 1 to update") }]]);
  });

  it("keeps the end of an output too long for an issue: the summary and the diagnostics", async () => {
    const { github, writes } = fakeGitHub({});
    await drift(github, `${"    ~ pulumi-nodejs:dynamic:Resource: (update)\n".repeat(5000)}${DRIFTED}`);

    const body = (writes()[0][1] as { body: string }).body;
    expect(body.length).toBeLessThan(65536);
    expect(body).toMatch(/Resources:\n {4}~ 1 to update\n {4}2 unchanged/);
  });

  it("closes the issue with a comment when a run plans no change, and touches nothing when none is open", async () => {
    const open = fakeGitHub({ issues: [{ number: 8, body: `<!-- pulumi-drift ${STACK} -->\nold`, user: { login: "github-actions[bot]" } }] });
    expect((await drift(open.github, CLEAN)).failed).toBeUndefined();
    expect(open.writes()).toEqual([
      ["createComment", { owner: "acme", repo: "infra", issue_number: 8, body: expect.stringContaining(RUN) }],
      ["update", { owner: "acme", repo: "infra", issue_number: 8, state: "closed", state_reason: "completed" }],
    ]);

    // The issue of another stack stays open.
    const other = fakeGitHub({ issues: [{ number: 9, body: "<!-- pulumi-drift acme/droplet-backups/staging -->", user: { login: "github-actions[bot]" } }] });
    expect((await drift(other.github, CLEAN)).failed).toBeUndefined();
    expect(other.writes()).toEqual([]);
  });

  it("fails without touching the issue when the output has no summary to judge by", async () => {
    const { github, calls } = fakeGitHub({ issues: [{ number: 8, body: `<!-- pulumi-drift ${STACK} -->`, user: { login: "github-actions[bot]" } }] });
    const core = await drift(github, "");

    expect(core.failed).toContain('no "Resources:" summary');
    expect(calls).toEqual([]);
  });
});

describe("the report script: a failed up", () => {
  const STARTED = "2026-06-02T04:34:10Z";
  const action = (type: string, status: Action["status"]): Action => ({
    id: 2000123,
    status,
    type,
    started_at: "2026-06-02T04:35:00Z",
    completed_at: status === "in-progress" ? null : "2026-06-02T04:50:00Z",
    resource_id: 100000103,
    resource_type: "image",
    region_slug: type === "transfer" ? "ams3" : null,
  });
  // The provider's own messages, so that a rewording that loses the recognised words fails here.
  const timedOut = (type: string) => new ActionTimeoutError(action(type, "in-progress"), 1_800_000).message;
  const errored = new ActionErroredError(action("transfer", "errored")).message;
  const urn = (name: string) => `urn:pulumi:production::droplet-backups::pulumi-nodejs:dynamic:Resource::${name}`;

  function state(resources: { name: string; initErrors?: string[] }[], { time = "2026-06-02T05:04:11.123456789Z", pending = [] as object[] } = {}) {
    return JSON.stringify({
      version: 3,
      deployment: {
        manifest: { time, magic: "", version: "v3.276.0" },
        resources: [{ urn: "urn:pulumi:production::droplet-backups::pulumi:pulumi:Stack::droplet-backups-production", type: "pulumi:pulumi:Stack" }, ...resources.map((r) => ({ urn: urn(r.name), type: "pulumi-nodejs:dynamic:Resource", id: "100000103", ...r }))],
        pending_operations: pending,
      },
    });
  }

  async function failedUp(result: { exitCode: number; stdout: string; stderr: string }) {
    const core = fakeCore();
    const runs: [string, string[]][] = [];
    const exec = {
      getExecOutput: async (command: string, args: string[]) => {
        runs.push([command, args]);
        return result;
      },
    };
    const resumes = await report.reportFailedUp({ core, exec, env: { PULUMI_STACK: STACK, UP_STARTED_AT: STARTED } });
    return { resumes, summary: core.summaryText, runs };
  }
  const exported = (stdout: string) => failedUp({ exitCode: 0, stdout, stderr: "" });

  it("resumes next run when every resource left incomplete waits for an action that outlasted its wait", async () => {
    const { resumes, summary, runs } = await exported(state([{ name: "daily", initErrors: [timedOut("convert")] }, { name: "monthly-dr", initErrors: [`1 of the image's transfers did not complete: ${timedOut("transfer")}`] }, { name: "monthly" }]));

    expect(runs).toEqual([["pulumi", ["stack", "export", "--stack", STACK]]]);
    expect(resumes).toBe(true);
    expect(summary).toContain(`### \`pulumi up\` on ${STACK}: resumes next run`);
    expect(summary).toContain(urn("daily"));
    expect(summary).toContain(urn("monthly-dr"));
    expect(summary).not.toContain(`${urn("monthly")}\``);
    expect(summary).not.toContain("needs a person");
  });

  it("needs a person when one of them stopped on another error", async () => {
    const { resumes, summary } = await exported(state([{ name: "daily", initErrors: [timedOut("convert")] }, { name: "monthly-dr", initErrors: [errored] }]));

    expect(resumes).toBe(false);
    expect(summary).toContain("needs a person");
    expect(summary).toContain("1 resource(s) stopped on an error");
    expect(summary).toContain("ended errored");
    expect(summary).toContain('Runbook: "When a run fails"');
  });

  it("needs a person when the update stopped with operations in flight", async () => {
    const pending = [{ resource: { urn: urn("monthly"), type: "pulumi-nodejs:dynamic:Resource" }, type: "creating" }];
    const { resumes, summary } = await exported(state([{ name: "daily", initErrors: [timedOut("convert")] }], { pending }));

    expect(resumes).toBe(false);
    expect(summary).toContain(`creating \`${urn("monthly")}\``);
  });

  it("needs a person when this run wrote nothing: the incomplete resources are an earlier run's", async () => {
    const { resumes, summary } = await exported(state([{ name: "daily", initErrors: [timedOut("convert")] }], { time: "2026-06-01T22:40:00.5+00:00" }));

    expect(resumes).toBe(false);
    expect(summary).toContain("This run wrote nothing to the stack's state");
  });

  it("needs a person when the update failed with nothing left incomplete", async () => {
    const { resumes, summary } = await exported(state([{ name: "daily" }]));

    expect(resumes).toBe(false);
    expect(summary).toContain("without leaving a resource incomplete");
  });

  it("needs a person when the state cannot be read", async () => {
    const { resumes, summary } = await failedUp({ exitCode: 255, stdout: "", stderr: `error: no stack named '${STACK}' found\n` });

    expect(resumes).toBe(false);
    expect(summary).toContain(`no stack named '${STACK}' found`);
    expect(summary).toContain("needs a person");
  });
});
