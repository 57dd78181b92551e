/**
 * Rotation keys that change only once the Droplet's backup window is over, so a
 * `pulumi up` never asks for a generation whose backup DigitalOcean has not
 * taken yet (a BackupVault refuses that rotation, and a SnapshotFromBackup
 * would keep an older backup). `windowEndHourUtc` is the hour the daily window
 * ends: with a window of 00:00 to 04:00 UTC, the key for June 2 starts at 04:00
 * on June 2.
 */
export function backupDay(now: Date, windowEndHourUtc: number): string {
  return new Date(now.getTime() - windowEndHourUtc * 3_600_000).toISOString().slice(0, 10);
}

/** The month of the same day, like "2026-06": a key for monthly archives. */
export function backupMonth(now: Date, windowEndHourUtc: number): string {
  return backupDay(now, windowEndHourUtc).slice(0, 7);
}
