import type { DropletBackupPolicyRecord } from "../api/types";
import { DigitalOceanError } from "../errors";
import type { AccountSession } from "../session";

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const WEEKDAYS: Record<string, string> = { SUN: "Sunday", MON: "Monday", TUE: "Tuesday", WED: "Wednesday", THU: "Thursday", FRI: "Friday", SAT: "Saturday" };

/** What a Droplet's backup policy says about its next backup, for an error that would otherwise have to guess. */
export type BackupSchedule = { enabled: false } | { enabled: true; nextWindow: string };

/**
 * The Droplet's backup schedule, or undefined when the policy cannot be read
 * (an error answer, an endpoint that does not serve the call): it only
 * improves an error message, so it never fails the step itself.
 */
export async function readBackupSchedule(session: AccountSession, dropletId: number): Promise<BackupSchedule | undefined> {
  try {
    return describeSchedule(await session.client.getDropletBackupPolicy(dropletId));
  } catch (error) {
    if (error instanceof DigitalOceanError) return undefined;
    throw error;
  }
}

/**
 * e.g. `the next weekly backup window opens Sunday 2026-11-29 20:00 UTC and lasts 4 hours`;
 * from the plan alone (`opens Sundays at 20:00 UTC`) when DigitalOcean gives no next window.
 */
export function describeSchedule(record: DropletBackupPolicyRecord): BackupSchedule | undefined {
  if (!record.backup_enabled) return { enabled: false };
  const policy = record.backup_policy;
  if (!policy) return undefined;
  const plan = policy.plan === "daily" || policy.plan === "weekly" ? `${policy.plan} ` : "";
  const lasts = policy.window_length_hours ? ` and lasts ${policy.window_length_hours} hours` : "";
  const start = record.next_backup_window ? Date.parse(record.next_backup_window.start) : Number.NaN;
  if (!Number.isNaN(start)) {
    const at = new Date(start);
    const when = `${DAYS[at.getUTCDay()]} ${at.toISOString().slice(0, 10)} ${at.toISOString().slice(11, 16)} UTC`;
    return { enabled: true, nextWindow: `the next ${plan}backup window opens ${when}${lasts}` };
  }
  if (policy.hour === undefined) return undefined;
  const hour = `${String(policy.hour).padStart(2, "0")}:00 UTC`;
  const day = policy.weekday !== undefined && WEEKDAYS[policy.weekday] ? `${WEEKDAYS[policy.weekday]}s at ` : "at ";
  return { enabled: true, nextWindow: `the ${plan}backup window opens ${day}${hour}${lasts}` };
}
