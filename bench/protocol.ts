/** Messages between run.ts and the workload process it forks. */
import type { Declaration } from "./scenario";

export type Strategy = "package" | "naive";

export type Command =
  | { cmd: "create"; strategy: Strategy; url: string; token: string; declarations: Declaration[] }
  | { cmd: "diff" }
  | { cmd: "refresh"; url: string; token: string }
  | { cmd: "adopt"; url: string; token: string }
  | { cmd: "exit" };

/** A resource whose create (or read, diff) failed. */
export interface FailureInfo {
  kind: string;
  message: string;
  /** The failure is DigitalOcean's rate limit surfacing (a 429 or the client's RateLimitError). */
  rateLimited: boolean;
}

interface Phase {
  clockMs: number;
  failures: FailureInfo[];
}

export type Reply =
  | { reply: "ready" }
  | ({ reply: "create"; maxRssKb: number; logLines: number; naive429: number } & Phase)
  | ({ reply: "diff"; changed: number } & Phase)
  | ({ reply: "refresh" } & Phase)
  | ({ reply: "adopt"; adopted: number } & Phase)
  | { reply: "error"; message: string };
