/**
 * `npm run shim-fixture`: write test/fixtures/shim-protocol/<version>.json, the
 * state this version of the package leaves in a stack (the serialized shim and
 * the outputs of each resource kind), by running one resource of each kind
 * through the engine-path harness against the simulator. Run it once per
 * release whose shim or state differs; never rewrite a released version's file
 * (`--force` is for a version not yet published).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { EngineStack, REPO_ROOT } from "../test/engine/harness";
import { startEngineAccount } from "../test/engine/account";
import { captureEachKind, fixtureOf, fixturePath } from "../test/engine/shim-protocol";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { force: { type: "boolean" } } });
  const account = await startEngineAccount();
  try {
    const target = fixturePath(account.pkg.version);
    if (fs.existsSync(target) && !values.force) {
      throw new Error(`${path.relative(REPO_ROOT, target)} exists: a released version's state must stay as it was written (--force for an unpublished version)`);
    }
    const stack = new EngineStack(account.server);
    await stack.up(await captureEachKind(account.pkg));
    const sdk = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as { version: string }).version;
    const text = `${JSON.stringify(fixtureOf(stack, account.pkg.version, sdk), null, 2)}\n`;
    if (text.includes(account.sim.token)) throw new Error("the state holds the token; not writing it");
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text);
    console.log(`wrote ${path.relative(REPO_ROOT, target)}: ${stack.state.size} resources`);
  } finally {
    await account.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
