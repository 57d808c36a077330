// The version printed by `authly --version` and /admin/status: package.json, embedded at build time.
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
