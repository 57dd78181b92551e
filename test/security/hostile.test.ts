/**
 * Malformed or hostile API answers, seen where a user sees them: the dynamic
 * handlers' `create`. Each ends in a clear error (never a crash, a hang or a
 * false success). test/client/ covers the client's own parsing; these add the
 * answers it does not (empty 200, 64 MiB at the default bound, a 502 page on
 * every attempt, an action for another image) and what the resource does.
 */
import type { ServerResponse } from "node:http";
import { handlers } from "../../provider/dynamic";
import { startSimulator, type Simulator } from "../../provider/simulator";
import { GOLDEN_SNAPSHOT, SEED, TIME_SCALE, WEB_BACKUPS } from "../support/account";
import { leaks, recordingProxy, renderError, stackConfig, TOKEN, useScaledHandlers, type RawRequest, type RecordingProxy } from "./support";

useScaledHandlers(TIME_SCALE);

const BACKUP = WEB_BACKUPS[0];
const OTHER_BACKUP = WEB_BACKUPS[1];

let sim: Simulator;
let proxy: RecordingProxy;
beforeEach(async () => {
  sim = await startSimulator({ timeScale: TIME_SCALE, seed: SEED, token: TOKEN });
  sim.state.addImage({ id: 100000020, name: "other", type: "snapshot", regions: ["nyc3"] });
  proxy = await recordingProxy(sim.url);
});
afterEach(async () => {
  await proxy.close();
  await sim.close();
});

const keep = () => handlers.SnapshotFromBackup.create({ backupId: BACKUP, name: "kept" }, stackConfig(proxy.url));
const copy = () => handlers.ImageRegionCopy.create({ imageId: GOLDEN_SNAPSHOT, regions: ["ams3"] }, stackConfig(proxy.url));

/** Answers GET /v2/images/<id> with `answer`, forwards everything else. */
function onGetImage(id: number, answer: (res: ServerResponse) => void): (req: RawRequest, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== "GET" || req.url.split("?")[0] !== `/v2/images/${id}`) return false;
    answer(res);
    return true;
  };
}

async function failure(run: () => Promise<unknown>): Promise<Error> {
  const outcome = await run().then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  expect(leaks(renderError(outcome.error))).toEqual([]);
  return outcome.error as Error;
}

it("a 200 whose body is not JSON", async () => {
  proxy.override = onGetImage(BACKUP, (res) => res.writeHead(200, { "content-type": "text/plain" }).end("OK"));
  expect((await failure(keep)).message).toBe(`Unusable response body (HTTP 200) on GET /v2/images/${BACKUP}: the body is not JSON (expected a JSON object)`);
  expect(sim.state.listActions(BACKUP)).toEqual([]);
});

it("a 200 with an empty body", async () => {
  proxy.override = onGetImage(BACKUP, (res) => res.writeHead(200, { "content-type": "application/json", "content-length": "0" }).end());
  expect((await failure(keep)).message).toMatch(/on GET \/v2\/images\/100000101: the body is empty/);
  expect(sim.state.listActions(BACKUP)).toEqual([]);
});

it("a body cut short (content-length larger than what is sent, then the connection closes)", async () => {
  proxy.override = onGetImage(BACKUP, (res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
    res.write('{"image":{"id":');
    setImmediate(() => res.destroy());
  });
  expect((await failure(keep)).message).toMatch(/Unusable response body \(HTTP 200\) on GET \/v2\/images\/100000101: the connection closed after \d+ bytes/);
  // A GET is retried, within bounds.
  const gets = proxy.requests.filter((r) => r.url.startsWith(`/v2/images/${BACKUP}`));
  expect(gets.length).toBeGreaterThan(1);
  expect(gets.length).toBeLessThanOrEqual(6);
});

it("a 64 MiB body streamed without content-length is cut off at the 16 MiB bound", async () => {
  let sent = 0;
  proxy.override = onGetImage(BACKUP, (res) => {
    res.writeHead(200, { "content-type": "application/json" });
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const pump = () => {
      while (sent < 64 * 1024 * 1024 && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      if (!res.destroyed) res.end();
    };
    res.write('{"image":{"id":100000101,"regions":[],"pad":"');
    pump();
  });
  expect((await failure(keep)).message).toMatch(/on GET \/v2\/images\/100000101: the body .*more than the 16777216 allowed/);
  // Too large is final: one attempt, and the client stopped reading long before the end.
  expect(proxy.requests.filter((r) => r.url.startsWith(`/v2/images/${BACKUP}`))).toHaveLength(1);
  expect(sent).toBeLessThan(64 * 1024 * 1024);
}, 30_000);

it("JSON of the wrong types", async () => {
  proxy.override = onGetImage(BACKUP, (res) => res.writeHead(200, { "content-type": "application/json" }).end('{"image":{"id":"x"}}'));
  expect((await failure(keep)).message).toMatch(/on GET \/v2\/images\/100000101: the JSON does not have the shape DigitalOcean documents/);
});

it("an HTML error page with 502 on every attempt", async () => {
  proxy.override = onGetImage(GOLDEN_SNAPSHOT, (res) => res.writeHead(502, { "content-type": "text/html" }).end(`<html><body><h1>502 Bad Gateway</h1>${"<p>upstream</p>".repeat(200)}</body></html>`));
  const error = await failure(copy);
  expect(error.message).toMatch(/DigitalOcean API 502 .* on GET \/v2\/images\/100000010/);
  expect(error.message).toContain("text/html");
  expect(error.message.length).toBeLessThan(600);
  expect(sim.state.listActions(GOLDEN_SNAPSHOT)).toEqual([]);
});

it("a convert POST answered with an action on another image is refused, not taken as the convert", async () => {
  proxy.override = (req) => {
    if (req.method === "POST" && req.url === `/v2/images/${BACKUP}/actions`) req.url = `/v2/images/${OTHER_BACKUP}/actions`;
    return false;
  };
  const error = await failure(keep);
  expect(error.message).toMatch(new RegExp(`with action \\d+, a convert of image ${OTHER_BACKUP}: not the action asked for`));
  expect(sim.state.imageView(BACKUP)?.type).toBe("backup");
});

it("a transfer POST answered with an action on another image is refused, not recorded as a copy", async () => {
  proxy.override = (req) => {
    if (req.method === "POST" && req.url === `/v2/images/${GOLDEN_SNAPSHOT}/actions`) req.url = "/v2/images/100000020/actions";
    return false;
  };
  const error = await failure(copy);
  expect(error.message).toMatch(/with action \d+, a transfer of image 100000020 to ams3: not the action asked for/);
  expect(sim.state.imageView(GOLDEN_SNAPSHOT)?.regions).toEqual(["nyc3"]);
});
