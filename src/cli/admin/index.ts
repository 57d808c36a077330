// `authly admin`: the API-first admin CLI. Everything loads lazily: `admin --help` reads only the
// group descriptions below, a command loads only its own group's file, and nothing here loads the
// server, PGlite or testcontainers. Every command talks to the server through cli/api-client.ts.
import { defineCommand, type CommandDef } from "citty";

/** A command group whose sub-commands load on first use. */
function group(name: string, description: string, load: () => Promise<{ default: CommandDef<any> }>): CommandDef<any> {
  return defineCommand({
    meta: { name, description },
    subCommands: async () => {
      const subs = (await load()).default.subCommands;
      return (typeof subs === "function" ? await subs() : await subs) ?? {};
    },
  });
}

export default defineCommand({
  meta: { name: "admin", description: "Administrative operations for Authly." },
  subCommands: {
    auth: group("auth", "Authentication commands for admin access.", () => import("./auth")),
    client: group("client", "Manage OAuth 2.1 clients.", () => import("./client")),
    scope: group("scope", "Manage OAuth scopes.", () => import("./scope")),
    user: group("user", "Manage user accounts.", () => import("./user")),
    key: group("key", "Manage signing keys.", () => import("./key")),
    status: () => import("./status").then((m) => m.default),
  },
});
