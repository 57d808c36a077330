// `authly admin`: the API-first admin CLI. Sub-commands load lazily so that `admin --help` never
// loads the server, PGlite or testcontainers; every command talks to the server through
// cli/api-client.ts only.
import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "admin", description: "Administrative operations for Authly." },
  subCommands: {
    auth: () => import("./auth").then((m) => m.default),
    client: () => import("./client").then((m) => m.default),
    scope: () => import("./scope").then((m) => m.default),
    user: () => import("./user").then((m) => m.default),
    key: () => import("./key").then((m) => m.default),
    status: () => import("./status").then((m) => m.default),
  },
});
