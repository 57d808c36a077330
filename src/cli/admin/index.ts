// `authly admin`: the API-first admin CLI. Everything loads lazily: `admin --help` reads only the
// group descriptions below, a command loads only its own group's file, and nothing here loads the
// server, PGlite or testcontainers. Every command talks to the server through cli/api-client.ts.
import { defineCommand, type CommandDef } from "citty";
import { helpText } from "./shared";

/** A command group whose sub-commands load on first use. */
function group(name: string, description: string, examples: string[], load: () => Promise<{ default: CommandDef<any> }>): CommandDef<any> {
  return {
    ...defineCommand({
      meta: { name, description },
      subCommands: async () => {
        const subs = (await load()).default.subCommands;
        return (typeof subs === "function" ? await subs() : await subs) ?? {};
      },
    }),
    help: helpText({ examples }),
  } as CommandDef<any>;
}

export default {
  ...defineCommand({
    meta: { name: "admin", description: "Administrative operations for Authly." },
    subCommands: {
      auth: group("auth", "Authentication commands for admin access.", ["$ authly admin auth login", "$ authly admin auth whoami --verbose", "$ authly admin auth info"], () => import("./auth")),
      client: group(
        "client",
        "Manage OAuth 2.1 clients.",
        ['$ authly admin client create --name "My Web App" --type confidential --redirect-uri "https://myapp.com/callback"', "$ authly admin client list --output json | jq -r '.clients[].client_id'", "$ authly admin client show <client-id>"],
        () => import("./client"),
      ),
      resource: group("resource", "Manage API resources (RFC 8707).", ["$ authly admin resource create --identifier https://api.example.com --name \"Orders API\" --scope orders:read", "$ authly admin resource create --from-metadata https://mcp.example.com/mcp", "$ authly admin resource list"], () => import("./resource")),
      scope: group("scope", "Manage OAuth scopes.", ['$ authly admin scope create --name "read" --description "Read access to user data"', "$ authly admin scope list", "$ authly admin scope defaults"], () => import("./scope")),
      user: group("user", "Manage user accounts.", ["$ authly admin user create --username alice --email alice@example.com", "$ authly admin user list --search alice", "$ authly admin user reset-password alice"], () => import("./user")),
      key: group("key", "Manage signing keys.", ["$ authly admin key list", "$ authly admin key rotate --dry-run", "$ authly admin key revoke KID --dry-run"], () => import("./key")),
      idp: group("idp", "Manage upstream identity providers (federation).", ["$ authly admin idp create --slug corp --name \"Corp SSO\" --issuer https://sso.corp.example --client-id authly", "$ authly admin idp list", "$ authly admin idp show corp"], () => import("./idp")),
      audit: group("audit", "Read the audit log.", ["$ authly admin audit list --action admin.denied"], () => import("./audit")),
      status: () => import("./status").then((m) => m.default),
      mail: group("mail", "Outgoing mail.", ["$ authly admin mail test --to ops@example.com"], () => import("./mail")),
      branding: group("branding", "Product name, logo, colours and stylesheet of the pages and mails.", ["$ authly admin branding show", '$ authly admin branding set --product-name "Acme ID" --primary-colour "#b00020"', "$ authly admin branding set --client my-app --logo-file ./logo.png"], () => import("./branding")),
      // Not API-first by design: recovery works with the database when no admin can sign in.
      recover: () => import("../recover").then((m) => m.default),
    },
  }),
  help: helpText({
    details: "API-first: every command calls the admin HTTP API (AUTHLY_ADMIN_API_URL, default http://localhost:8000).\nLog in first with `authly admin auth login`. AUTHLY_MODE=cli unless set.",
    examples: ["# Login to admin interface\n$ authly admin auth login", '# Create your first OAuth client\n$ authly admin client create --name "My Application" --type confidential --redirect-uri "https://myapp.com/callback"', "# Check system status\n$ authly admin status"],
  }),
} as CommandDef<any>;
