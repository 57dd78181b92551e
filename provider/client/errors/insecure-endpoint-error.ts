import { DigitalOceanError } from "../../errors";

/** A plain `http://` API endpoint on a non-loopback host: the token would travel in clear text. */
export class InsecureEndpointError extends DigitalOceanError {
  constructor(readonly endpoint: string) {
    super(
      `Refusing the DigitalOcean API endpoint ${endpoint}: plain http would send the token unencrypted. ` +
        "Use https://, or http:// only on a loopback host (127.0.0.1, ::1, localhost) such as a local simulator.",
    );
  }
}
