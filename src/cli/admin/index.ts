// `authly admin`: the API-first admin CLI. Sub-commands load lazily so that `admin --help` never
// loads the server, PGlite or testcontainers.
import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "admin", description: "Administrative operations for Authly." },
  subCommands: {},
});
