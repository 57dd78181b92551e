import { ResponseBodyError } from "./errors";
import type { Page } from "./pagination";
import type { AccountRecord, Action, DropletBackupPolicyRecord, Image, PageLinks, PageMeta, Region } from "../api/types";

/**
 * Readers of DigitalOcean's JSON answers: each accepts a parsed body of the
 * documented shape and returns what the client wants from it, or undefined
 * for any other shape (which the client reports as an unusable answer). They
 * check only the fields the package relies on.
 */

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export const isImage = (v: unknown): v is Image => isObject(v) && typeof v.id === "number" && Array.isArray(v.regions);
export const isAction = (v: unknown): v is Action => isObject(v) && typeof v.id === "number" && typeof v.status === "string" && typeof v.type === "string";
export const isTag = (v: unknown): v is { name: string } => isObject(v) && typeof v.name === "string";
export const isRegion = (v: unknown): v is Region => isObject(v) && typeof v.slug === "string";
export const isBackupPolicyRecord = (v: unknown): v is DropletBackupPolicyRecord =>
  isObject(v) && typeof v.backup_enabled === "boolean" && (v.backup_policy === undefined || v.backup_policy === null || isObject(v.backup_policy));

/** An account with its user's uuid, and a team (when there is one) with its uuid and name. */
export const isAccount = (v: unknown): v is { uuid: string; team?: { uuid: string; name: string } | null } =>
  isObject(v) && typeof v.uuid === "string" && v.uuid !== "" && (v.team === undefined || v.team === null || isTeam(v.team));
const isTeam = (v: unknown): boolean => isObject(v) && typeof v.uuid === "string" && v.uuid !== "" && typeof v.name === "string";

/** Only the uuids and the team's name: the rest of the answer (the user's email and name) is personal data, left behind. */
export function accountRecord(body: unknown): AccountRecord | undefined {
  const account = envelope("account", isAccount)(body);
  if (!account) return undefined;
  return account.team ? { uuid: account.uuid, team: { uuid: account.team.uuid, name: account.team.name } } : { uuid: account.uuid };
}

/** Reads `{ [key]: T }`. */
export function envelope<T>(key: string, is: (v: unknown) => v is T): (body: unknown) => T | undefined {
  return (body) => (isObject(body) && is(body[key]) ? (body[key] as T) : undefined);
}

/** Reads `{ [key]: T[], links?, meta? }`. */
export function pageOf<T>(key: string, is: (v: unknown) => v is T): (body: unknown) => Page<T> | undefined {
  return (body) => {
    if (!isObject(body)) return undefined;
    const items = body[key];
    if (!Array.isArray(items) || !items.every(is)) return undefined;
    return { items, links: isObject(body.links) ? (body.links as PageLinks) : undefined, meta: isObject(body.meta) ? (body.meta as unknown as PageMeta) : undefined };
  };
}

/**
 * What `read` takes from a 2xx answer's `text`. Throws ResponseBodyError,
 * naming the answer's status, method and path, when the text is not JSON or
 * not of the shape `read` accepts.
 */
export function readAnswer<T>(text: string, read: (body: unknown) => T | undefined, answer: { status: number; method: string; path: string }): T {
  const { status, method, path } = answer;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    const detail = text.trim() === "" ? "the body is empty" : "the body is not JSON";
    throw new ResponseBodyError("not-json", status, method, path, `${detail} (expected a JSON object)`, { cause: error });
  }
  const value = read(body);
  if (value === undefined) throw new ResponseBodyError("wrong-shape", status, method, path, "the JSON does not have the shape DigitalOcean documents for this endpoint");
  return value;
}
