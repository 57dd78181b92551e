import type { AccountRecord } from "./types";

/**
 * Who a token reached when a resource was created or adopted, as its state
 * records it. Tokens are issued per team, so it is usually the team; a token
 * outside any team records only its user's uuid (a user's name and email are
 * personal data and never enter state or logs).
 */
export type AccountIdentity = { kind: "team"; uuid: string; name: string } | { kind: "user"; uuid: string };

export function identityOf(account: AccountRecord): AccountIdentity {
  return account.team ? { kind: "team", uuid: account.team.uuid, name: account.team.name } : { kind: "user", uuid: account.uuid };
}

/** Kind and uuid both: one uuid can name a team in one state and a user in another. */
export function sameAccount(a: AccountIdentity, b: AccountIdentity): boolean {
  return a.kind === b.kind && a.uuid === b.uuid;
}

/** As messages name it: a team by name and uuid, a user by uuid only. */
export function describeAccount(account: AccountIdentity): string {
  return account.kind === "team" ? `team "${account.name}" (${account.uuid})` : `a personal account outside any team (user ${account.uuid})`;
}

/**
 * The identity a resource's state records, or undefined when it records none
 * (state written before identities were recorded) or something unreadable.
 */
export function recordedAccount(value: unknown): AccountIdentity | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { kind, uuid, name } = value as Record<string, unknown>;
  if (typeof uuid !== "string" || uuid === "") return undefined;
  if (kind === "team" && typeof name === "string") return { kind, uuid, name };
  if (kind === "user") return { kind, uuid };
  return undefined;
}
