import { DigitalOceanError } from "../../errors";

/** The provider is not configured well enough to call DigitalOcean (e.g. no token). */
export class ConfigurationError extends DigitalOceanError {}
