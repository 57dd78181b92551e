// What the workflows in ../workflows report after a Pulumi step, called from actions/github-script:
//
//   markPreviewFailed: a failed preview edits the pull request's Pulumi comment to say so, so the
//                      comment never shows the plan of an older commit as if it were current.
//   reportDrift:       opens or updates one issue when the drift check plans a change, closes it
//                      when a check plans none.
//   reportFailedUp:    says in the job summary whether a failed `pulumi up` resumes on its own.
//
// Step outputs arrive as environment variables, never spliced into the script's text: a preview's
// output is text that a pull request controls, and would otherwise be run as code.
"use strict";

const { readFileSync } = require("node:fs");
const { join } = require("node:path");

// pulumi/actions edits the first comment that starts with its heading and contains this.
const REPORT_MARKER = "<summary>Pulumi report</summary>";
// The wait-timeout error of pulumi-digitalocean-image-actions: the action outlived
// waitTimeoutSeconds and the next `pulumi up` resumes it.
const WAIT_TIMEOUT = /goes on at DigitalOcean/;
const RUNBOOK = 'Runbook: "When a run fails" in the pipeline\'s README (examples/gitops/README.md of pulumi-digitalocean-image-actions).';
// Below GitHub's 65,536 characters for an issue body, with room for the text around the output.
const MAX_OUTPUT = 60000;
const BOT = "github-actions[bot]";

/** The heading pulumi/actions gives its pull-request comment: the stack as given, after the project. */
function commentHeading(command, project, stack) {
  return `#### :tropical_drink: \`${command}\` on ${project}/${stack}`;
}

/** The project's name from Pulumi.yaml, which pulumi/actions puts in its heading. */
function projectName(dir) {
  const file = join(dir, "Pulumi.yaml");
  const match = /^name:[ \t]*["']?([^"'\s#]+)/m.exec(readFileSync(file, "utf8"));
  if (!match) throw new Error(`${file} has no name`);
  return match[1];
}

function required(env, name) {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set for this step`);
  return value;
}

function runUrl(context) {
  return `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}`;
}

function stripAnsi(text) {
  // eslint-disable-next-line no-control-regex -- colour codes start with the ESC control character
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
}

/**
 * The changes in a preview's last "Resources:" summary ("~ 1 to update", "+ 2 to create"), an empty
 * list when it plans none ("3 unchanged"), or undefined when the output has no summary at all.
 */
function planChanges(output) {
  const lines = stripAnsi(output).split(/\r?\n/);
  const start = lines.map((line) => line.trim()).lastIndexOf("Resources:");
  if (start < 0) return undefined;
  const changes = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") break;
    if (/\d+ to [a-z-]+\s*$/.test(line)) changes.push(line.trim());
  }
  return changes;
}

/** The tail of `output`: the summary and the diagnostics come last. */
function tail(output) {
  return output.length <= MAX_OUTPUT ? output : `(cut: the first ${output.length - MAX_OUTPUT} characters)\n…${output.slice(-MAX_OUTPUT)}`;
}

/** A fenced block that no run of backticks in `text` can close early. */
function fenced(text) {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map(([run]) => run.length));
  const fence = "`".repeat(longest + 1);
  return `${fence}text\n${text}\n${fence}`;
}

/** Edits the pull request's Pulumi comment (or adds one) to say that the preview of its head commit failed. */
async function markPreviewFailed({ github, context, env = process.env, dir = process.cwd() }) {
  const heading = commentHeading("preview", projectName(dir), required(env, "PULUMI_STACK"));
  const pull = context.payload.pull_request;
  const target = { owner: context.repo.owner, repo: context.repo.repo };
  const body = [
    heading,
    "",
    `:x: **The preview of ${pull.head.sha} failed**: [its run](${runUrl(context)}) has the error. ` +
      "This comment shows no plan until the preview of a later commit succeeds.",
    "",
    "<details>",
    REPORT_MARKER,
    "",
    "No plan: the preview failed.",
    "</details>",
  ].join("\n");

  // The first page only, as pulumi/actions reads it: the next successful preview edits this same comment.
  const { data: comments } = await github.rest.issues.listComments({ ...target, issue_number: pull.number });
  const ours = comments.find((comment) => (comment.body ?? "").startsWith(heading) && comment.body.includes(REPORT_MARKER));
  if (ours) await github.rest.issues.updateComment({ ...target, comment_id: ours.id, body });
  else await github.rest.issues.createComment({ ...target, issue_number: pull.number, body });
}

/** Opens or updates the stack's drift issue and fails when the preview plans changes; closes it when it plans none. */
async function reportDrift({ github, context, core, env = process.env }) {
  const stack = required(env, "PULUMI_STACK");
  const output = stripAnsi(env.PREVIEW_OUTPUT ?? "");
  const changes = planChanges(output);
  if (changes === undefined) {
    core.setFailed("The drift preview's output has no \"Resources:\" summary, so this run cannot tell whether anything drifted; its log has the output.");
    return;
  }

  const target = { owner: context.repo.owner, repo: context.repo.repo };
  const marker = `<!-- pulumi-drift ${stack} -->`;
  // Only an issue this workflow opened: anyone can write the marker into an issue of their own.
  const open = (await github.paginate(github.rest.issues.listForRepo, { ...target, state: "open", per_page: 100 })).find(
    (issue) => !issue.pull_request && issue.user?.login === BOT && (issue.body ?? "").includes(marker),
  );

  if (changes.length === 0) {
    if (open) {
      await github.rest.issues.createComment({ ...target, issue_number: open.number, body: `The drift check of ${runUrl(context)} plans no change: closing.` });
      await github.rest.issues.update({ ...target, issue_number: open.number, state: "closed", state_reason: "completed" });
    }
    core.info(`No drift on ${stack}.`);
    return;
  }

  const body = [
    marker,
    `The drift check of [this run](${runUrl(context)}) plans changes to \`${stack}\`: DigitalOcean no longer matches what the stack records.`,
    "",
    ...changes.map((change) => `- \`${change}\``),
    "",
    "The next `pulumi up` applies this plan. Read it first: a change nobody expected (a snapshot deleted by hand, a copy gone) " +
      "is worth knowing about before it is repaired. A clean drift check closes this issue.",
    "",
    fenced(tail(output)),
  ].join("\n");
  if (open) await github.rest.issues.update({ ...target, issue_number: open.number, body });
  else await github.rest.issues.create({ ...target, title: `Drift on ${stack}`, body });
  core.setFailed(`Drift on ${stack}: ${changes.join(", ")}.`);
}

/**
 * Whether a failed update resumes on the next run, from the stack's exported state: it does when this
 * run wrote the state, nothing was left in flight, and every resource left incomplete stopped because
 * an action outlasted its wait.
 */
function judgeState(exported, startedAt) {
  const deployment = exported.deployment ?? {};
  const incomplete = (deployment.resources ?? [])
    .filter((resource) => (resource.initErrors ?? []).length > 0)
    .map((resource) => ({ urn: resource.urn, reasons: resource.initErrors, waiting: resource.initErrors.every((reason) => WAIT_TIMEOUT.test(reason)) }));
  const pending = (deployment.pending_operations ?? []).map((operation) => ({ urn: operation.resource?.urn, type: operation.type }));
  // A run that failed before changing anything leaves the state of an earlier run, incomplete resources included.
  const writtenByThisRun = Date.parse(deployment.manifest?.time ?? "") >= startedAt;
  const resumes = writtenByThisRun && pending.length === 0 && incomplete.length > 0 && incomplete.every((resource) => resource.waiting);
  return { resumes, incomplete, pending, writtenByThisRun };
}

function cell(text) {
  return text.replace(/\s+/g, " ").replace(/\|/g, "\\|");
}

function renderVerdict(stack, verdict) {
  const rows = verdict.incomplete.map((resource) => `| \`${resource.urn}\` | ${cell(resource.reasons.join(" "))} |`);
  const table = rows.length > 0 ? ["", "| resource left incomplete | why |", "|---|---|", ...rows] : [];
  if (verdict.resumes) {
    return [
      `### \`pulumi up\` on ${stack}: resumes next run`,
      "",
      "Every resource this run left incomplete waits for an action that goes on at DigitalOcean. " +
        "The next run of this workflow (the schedule, a merge, or Run workflow) resumes the same actions and starts none twice; nothing to do. " +
        "(This reads the state: a create that failed outright leaves nothing there, so the `pulumi up` step's log is the full list of errors.)",
      ...table,
    ].join("\n");
  }
  const why = [];
  if (verdict.error) why.push(verdict.error);
  else if (!verdict.writtenByThisRun) why.push("This run wrote nothing to the stack's state: it failed before changing any resource (the `pulumi up` step's log has the error).");
  if (verdict.pending.length > 0) {
    why.push(
      `The update stopped with ${verdict.pending.length} operation(s) in flight (${verdict.pending.map((op) => `${op.type} \`${op.urn}\``).join(", ")}): ` +
        "clear them before the next run.",
    );
  }
  const stuck = verdict.incomplete.filter((resource) => !resource.waiting);
  if (stuck.length > 0) why.push(`${stuck.length} resource(s) stopped on an error that another run does not fix by waiting longer (below).`);
  if (!verdict.error && verdict.writtenByThisRun && verdict.incomplete.length === 0 && verdict.pending.length === 0) {
    why.push("The update failed without leaving a resource incomplete: the `pulumi up` step's log has the error.");
  }
  return [`### \`pulumi up\` on ${stack}: needs a person`, "", ...why.map((line) => `- ${line}`), "", RUNBOOK, ...table].join("\n");
}

/** Writes the job summary of a failed `pulumi up`: "resumes next run" or "needs a person". */
async function reportFailedUp({ core, exec, env = process.env }) {
  const stack = required(env, "PULUMI_STACK");
  const startedAt = Date.parse(required(env, "UP_STARTED_AT"));
  // Backend credentials only: reading the state needs no DigitalOcean token. Silent: the log gets no state.
  const exported = await exec.getExecOutput("pulumi", ["stack", "export", "--stack", stack], { silent: true, ignoreReturnCode: true });
  let verdict;
  try {
    if (exported.exitCode !== 0) throw new Error(exported.stderr.trim() || `exit code ${exported.exitCode}`);
    verdict = judgeState(JSON.parse(exported.stdout), startedAt);
  } catch (error) {
    verdict = { resumes: false, incomplete: [], pending: [], writtenByThisRun: false, error: `The stack's state could not be read (\`pulumi stack export\`: ${error.message}).` };
  }
  await core.summary.addRaw(renderVerdict(stack, verdict)).write();
  return verdict.resumes;
}

module.exports = { planChanges, markPreviewFailed, reportDrift, reportFailedUp };
