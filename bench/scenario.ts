/**
 * What one benchmark run creates and against what account: seeded snapshots to
 * copy and Droplets with backups to keep, the resources declaring them and the
 * simulator's action durations.
 */
import type { SeedData, SeedImage } from "../provider/simulator";

/**
 * Action durations on the simulator's clock: a base plus 20 s per GB of the image.
 * Snapshots to copy are 0.1 to 9 GB, so a transfer takes 122 to 300 s; backups are
 * 0.5 to 3 GB, so a convert takes 70 to 120 s.
 */
export const DURATIONS = { convertMs: 60_000, transferMs: 120_000, perGigabyteMs: 20_000 };

/** The regions every ImageRegionCopy declares; the snapshots start in nyc3. */
export const COPY_REGIONS = ["ams3", "fra1", "sfo3"];
const HOME_REGION = "nyc3";
export const TAG = "bench";

const FIRST_SNAPSHOT_ID = 200_000_001;
const FIRST_DROPLET_ID = 3_000_001;
const FIRST_BACKUP_ID = 300_000_001;

export interface Size {
  label: string;
  copies: number;
  snapshots: number;
}

/** `ImageRegionCopy` inputs as a program declares them. */
export interface CopyDeclaration {
  kind: "ImageRegionCopy";
  inputs: { imageId: number; regions: string[] };
}

/** `SnapshotFromBackup` inputs as a program declares them. */
export interface SnapshotDeclaration {
  kind: "SnapshotFromBackup";
  inputs: { backupId: number; name: string; tags: string[] };
}

export type Declaration = CopyDeclaration | SnapshotDeclaration;

export interface Scenario {
  size: Size;
  seed: SeedData;
  declarations: Declaration[];
  /** The longest single action any resource waits for, in clock ms. */
  longestActionMs: number;
  /** Droplet of each backup, to seed a second account with the first one's images. */
  dropletOfImage: Map<number, number>;
}

/** Deterministic sizes spread over a range, so durations differ from resource to resource. */
function spread(i: number, min: number, max: number): number {
  return Math.round((min + ((i * 37) % 101) / 100 * (max - min)) * 10) / 10;
}

export function buildScenario(size: Size): Scenario {
  const images: SeedImage[] = [];
  const declarations: Declaration[] = [];
  const dropletOfImage = new Map<number, number>();
  let longestActionMs = 0;
  for (let i = 0; i < size.copies; i++) {
    const id = FIRST_SNAPSHOT_ID + i;
    const gb = spread(i, 0.1, 9);
    images.push({ id, name: `app-${i}`, type: "snapshot", regions: [HOME_REGION], size_gigabytes: gb, created_at: "2025-06-01T00:00:00Z" });
    declarations.push({ kind: "ImageRegionCopy", inputs: { imageId: id, regions: [...COPY_REGIONS] } });
    longestActionMs = Math.max(longestActionMs, DURATIONS.transferMs + DURATIONS.perGigabyteMs * gb);
  }
  const droplets: NonNullable<SeedData["droplets"]> = [];
  for (let i = 0; i < size.snapshots; i++) {
    const dropletId = FIRST_DROPLET_ID + i;
    const backupId = FIRST_BACKUP_ID + i;
    const gb = spread(i, 0.5, 3);
    droplets.push({
      id: dropletId,
      name: `web-${i}`,
      region: HOME_REGION,
      size_slug: "s-1vcpu-2gb",
      backup_policy: { plan: "weekly" },
      backups: [{ id: backupId, name: `web-${i} 2025-06-01`, created_at: "2025-06-01T04:00:00Z", size_gigabytes: gb }],
    });
    dropletOfImage.set(backupId, dropletId);
    declarations.push({ kind: "SnapshotFromBackup", inputs: { backupId, name: `web-${i}-kept`, tags: [TAG] } });
    longestActionMs = Math.max(longestActionMs, DURATIONS.convertMs + DURATIONS.perGigabyteMs * gb);
  }
  return { size, seed: { droplets, images }, declarations, longestActionMs, dropletOfImage };
}
