/**
 * What goes over the wire: the token only as `Authorization: Bearer`, and only
 * to endpoints where it cannot travel in clear text off the machine.
 */
import { createServer as createTcpServer, type Socket } from "node:net";
import { handlers } from "../../provider/dynamic";
import { startSimulator, type Simulator } from "../../provider/simulator";
import { SEED, TIME_SCALE, WEB_BACKUPS } from "../support/account";
import { leaks, recordingProxy, stackConfig, TOKEN, useScaledHandlers, type RecordingProxy } from "./support";

useScaledHandlers(TIME_SCALE);

let sim: Simulator;
let proxy: RecordingProxy;
beforeEach(async () => {
  sim = await startSimulator({ timeScale: TIME_SCALE, seed: SEED, token: TOKEN });
  proxy = await recordingProxy(sim.url);
});
afterEach(async () => {
  await proxy.close();
  await sim.close();
});

it("the token is sent only in the Authorization header, as Bearer, on GET, PUT, POST, DELETE and tag calls", async () => {
  const config = stackConfig(proxy.url);
  const backupId = WEB_BACKUPS[0];
  const created = await handlers.SnapshotFromBackup.create({ backupId, name: "kept", description: "audit", tags: ["a", "b"] }, config);
  const state = created.outs as Parameters<typeof handlers.SnapshotFromBackup.update>[1];
  await handlers.SnapshotFromBackup.update(String(backupId), state, { backupId, name: "renamed", tags: ["a"] }, config);
  await handlers.SnapshotFromBackup.destroy(String(backupId), state, config);

  const calls = proxy.requests.map((r) => `${r.method} ${r.url.split("?")[0]}`);
  for (const call of [
    `GET /v2/images/${backupId}`,
    `POST /v2/images/${backupId}/actions`,
    `PUT /v2/images/${backupId}`,
    "POST /v2/tags",
    "POST /v2/tags/a/resources",
    "DELETE /v2/tags/b/resources",
    `DELETE /v2/images/${backupId}`,
  ]) {
    expect(calls).toContain(call);
  }
  for (const req of proxy.requests) {
    const auth = req.rawHeaders.filter(([name]) => name.toLowerCase() === "authorization");
    // API calls carry the token; the one read of the simulator's clock (DO_IMAGE_ACTIONS_TIME_SCALE) carries none.
    expect({ call: `${req.method} ${req.url}`, auth }).toEqual({
      call: `${req.method} ${req.url}`,
      auth: req.url.startsWith("/v2/") ? [[expect.any(String), `Bearer ${TOKEN}`]] : [],
    });
    const elsewhere = [req.method, req.url, req.body, ...req.rawHeaders.filter(([name]) => name.toLowerCase() !== "authorization").flat()].join("\n");
    expect({ call: `${req.method} ${req.url}`, leaks: leaks(elsewhere) }).toEqual({ call: `${req.method} ${req.url}`, leaks: [] });
  }
});

it("a plain http endpoint off loopback is refused before any connection; loopback http and https are used", async () => {
  // A listener on this machine's own non-loopback address: had the request been sent, it would arrive here.
  const seen: Buffer[] = [];
  const sockets: Socket[] = [];
  const listener = createTcpServer((socket) => {
    sockets.push(socket);
    socket.once("data", (chunk: Buffer) => {
      seen.push(chunk);
      socket.destroy();
    });
  });
  await new Promise<void>((r) => listener.listen(0, "0.0.0.0", r));
  const port = (listener.address() as { port: number }).port;
  try {
    // 0.0.0.0 is no loopback name, yet a connection to it would land on this listener: a failed refusal shows in `seen`.
    const unspecified = `http://0.0.0.0:${port}`;
    const refused = await handlers.SnapshotFromBackup.create({ backupId: WEB_BACKUPS[0] }, stackConfig(unspecified)).catch((e: unknown) => e);
    expect((refused as Error).message).toBe(
      `Refusing the DigitalOcean API endpoint ${unspecified}: plain http would send the token unencrypted. ` +
        "Use https://, or http:// only on a loopback host (127.0.0.1, ::1, localhost) such as a local simulator.",
    );
    expect(seen).toEqual([]);

    // https: the client opens TLS (the first byte is a TLS handshake record), never clear text.
    const tls = await handlers.SnapshotFromBackup.create({ backupId: WEB_BACKUPS[0] }, stackConfig(`https://127.0.0.1:${port}`)).catch((e: unknown) => e);
    expect((tls as Error).name).not.toMatch(/Configuration|InsecureEndpoint/);
    expect(seen.length).toBeGreaterThan(0);
    for (const chunk of seen) {
      expect(chunk[0]).toBe(0x16);
      expect(leaks(chunk.toString("latin1"))).toEqual([]);
    }

    // Loopback http (the simulator, by name): used.
    const kept = await handlers.SnapshotFromBackup.create({ backupId: WEB_BACKUPS[0] }, stackConfig(sim.url.replace("127.0.0.1", "localhost")));
    expect(kept.outs).toMatchObject({ imageType: "snapshot" });
  } finally {
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => listener.close(r));
  }
});
