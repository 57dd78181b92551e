/**
 * Security-suite support: a distinctive token and every form it could leak in,
 * a recording proxy in front of the simulator that keeps the raw requests (and
 * can answer some of them itself, with hostile answers), and the dynamic
 * handlers' config on the simulator's scaled clock.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { resetSessions } from "../../provider/session";
import type { StackConfig } from "../../provider/dynamic";

/** Distinctive, with characters that URL encoding changes. */
export const TOKEN = "dop_v1_canary+Zq7Xw/93kLmN=pR4sT";

/** Every form the token could leak in: as is, base64 (also of the header value), base64url, URL-encoded, and its distinctive core. */
export const TOKEN_FORMS = [
  TOKEN,
  Buffer.from(TOKEN).toString("base64"),
  Buffer.from(`Bearer ${TOKEN}`).toString("base64"),
  Buffer.from(TOKEN).toString("base64url"),
  encodeURIComponent(TOKEN),
  "canary+Zq7Xw",
  "Zq7Xw",
];

/** The forms of TOKEN found in `text` (none, hopefully). */
export function leaks(text: string): string[] {
  return TOKEN_FORMS.filter((form) => text.includes(form));
}

/** Every way an error could be shown or logged, its causes included. */
export function renderError(error: unknown): string {
  const e = error as Error;
  const parts = [String(e), e?.message ?? "", e?.stack ?? "", inspect(e, { depth: 20, showHidden: true })];
  try {
    parts.push(JSON.stringify(e));
  } catch {
    // circular: inspect above covers it
  }
  let cause = (e as { cause?: unknown })?.cause;
  for (let i = 0; cause !== undefined && i < 10; i++) {
    parts.push(String(cause), (cause as Error).stack ?? "", inspect(cause, { depth: 20, showHidden: true }));
    cause = (cause as { cause?: unknown }).cause;
  }
  return parts.join("\n");
}

export interface RawRequest {
  method: string;
  url: string;
  /** Name/value pairs as sent. */
  rawHeaders: [string, string][];
  body: string;
}

/** Answer a request instead of forwarding it: return true when `res` was handled (or change `req.url` and return false to forward elsewhere). */
export type Override = (req: RawRequest, res: ServerResponse) => boolean;

export interface RecordingProxy {
  url: string;
  requests: RawRequest[];
  override: Override | undefined;
  close(): Promise<void>;
}

/** A proxy on loopback that records each request's line, headers and body, then forwards it to `target` (or lets `override` answer). */
export async function recordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const proxy: RecordingProxy = { url: "", requests: [], override: undefined, close: async () => undefined };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const pairs: [string, string][] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
      const raw: RawRequest = { method: req.method ?? "", url: req.url ?? "", rawHeaders: pairs, body: Buffer.concat(chunks).toString("utf8") };
      proxy.requests.push({ ...raw });
      if (proxy.override?.(raw, res)) return;
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: raw.method, path: raw.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      // The simulator destroyed the socket (an injected fault): do the same.
      forward.on("error", () => res.destroy());
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return proxy;
}

/** The stack config the handlers get from `configure`. */
export function stackConfig(endpoint: string, token = TOKEN): StackConfig {
  return { "digitalocean:token": token, "digitalocean:apiEndpoint": endpoint };
}

/** Run the handlers in this process on the simulator's scale; forget their sessions afterwards. */
export function useScaledHandlers(scale: number): void {
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.DO_IMAGE_ACTIONS_TIME_SCALE;
    process.env.DO_IMAGE_ACTIONS_TIME_SCALE = String(scale);
  });
  afterEach(() => resetSessions());
  afterAll(() => {
    if (saved === undefined) delete process.env.DO_IMAGE_ACTIONS_TIME_SCALE;
    else process.env.DO_IMAGE_ACTIONS_TIME_SCALE = saved;
  });
}
