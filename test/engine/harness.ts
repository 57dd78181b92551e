/**
 * Engine-path test harness: plays the Pulumi engine's part against the real
 * dynamic-provider server, because the Pulumi CLI is not available here.
 * See README.md in this folder.
 *
 *   const pkg = await preparePackage();
 *   const server = await startDynamicProvider({ cwd: pkg.dir, config: { "digitalocean:token": "t" } });
 *   const stack = new EngineStack(server);
 *   const { resources } = await capture(() => { new SnapshotFromBackup("keep", { backupId: 123 }); });
 *   await stack.up(resources);
 *   await stack.destroy();
 *   await server.close();
 */
export { capture, toProviderInputs, UNKNOWN } from "./capture";
export type { Capture, CaptureOptions, CapturedResource, PropertyMap } from "./capture";
export { loadFromPackage, preparePackage, PACKAGE_NAME, REPO_ROOT } from "./package";
export type { PreparedPackage, PrepareOptions } from "./package";
export { startDynamicProvider, ProviderError, SERVER_ENTRY } from "./server";
export type { CheckFailure, CheckResult, CreateResult, DiffResult, DynamicProviderServer, ReadResult, StartOptions } from "./server";
export { EngineStack, CheckFailedError, StepsFailedError, UpRun } from "./stack";
export type { PlannedStep, ResourceState, Step, StepOp, UpOptions } from "./stack";
export { upProgram } from "./program";
export type { ProgramRun } from "./program";
