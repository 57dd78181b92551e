/**
 * Golden image: an existing snapshot made available in every region of a list
 * from config, so Droplets anywhere can boot from it.
 *
 * Config:
 *   imageId   (required) the snapshot or custom image to distribute
 *   regions   (required) a list of region slugs, e.g. ["ams3", "fra1", "sgp1"]
 */
import * as pulumi from "@pulumi/pulumi";
import { ImageRegionCopy } from "pulumi-digitalocean-image-actions";

const config = new pulumi.Config();

const golden = new ImageRegionCopy("golden", {
  imageId: config.require("imageId"),
  regions: config.requireObject<string[]>("regions"),
  waitTimeoutSeconds: 7200,
});

export const availableRegions = golden.availableRegions;
export const transferredRegions = golden.transferredRegions;
