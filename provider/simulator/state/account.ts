import type { Clock } from "../../clock";
import type { Region } from "../../api/types";
import type { DropletRecord } from "../droplets";
import type { ImageTable } from "./images";
import type { TagTable } from "./tags";

/** The records of the simulated account that seeding and reads share. */
export interface Account {
  readonly clock: Clock;
  readonly regions: Map<string, Region>;
  readonly droplets: Map<number, DropletRecord>;
  readonly images: ImageTable;
  readonly tags: TagTable;
}
