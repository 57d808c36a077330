// The next command to run after an admin API refusal that a newcomer meets on a fresh server:
// a scope that does not exist yet (or exists already, as a built-in), a user that exists, a
// temporary password. toApiError (api-client.ts) appends it to the error's detail.
const q = (s: string) => (/^[\w:.-]+$/.test(s) ? s : JSON.stringify(s));

export interface FieldProblem {
  field: string;
  message: string;
}

/** One line per problem that has a known fix, naming the command; empty when none applies. */
export function nextSteps(status: number, description: string | undefined, fields: FieldProblem[] = []): string[] {
  const out: string[] = [];
  for (const f of fields) {
    const unknownScopes = /unknown or inactive scope\(s\): (.+)$/.exec(f.message);
    if (f.field === "scope" && unknownScopes) {
      const names = unknownScopes[1]!.split(/,\s*/).filter(Boolean);
      out.push(`Create ${names.length > 1 ? "each missing scope" : "the scope"} first: ${names.map((n) => `\`authly admin scope create --name ${q(n)} --description "..."\``).join(", ")}`);
      out.push("(a scope that exists but is inactive: `authly admin scope update NAME --activate`; all scopes: `authly admin scope list`)");
    }
  }
  const d = description ?? "";
  let m: RegExpExecArray | null;
  if (status === 409 && (m = /^A scope named '(.+)' already exists$/.exec(d))) {
    out.push(`It exists already (built-in scopes such as openid, profile and email come with every server): see it with \`authly admin scope show ${q(m[1]!)}\`, change it with \`authly admin scope update ${q(m[1]!)} --description "..."\`.`);
  } else if (status === 409 && /^A user with this (username|email) already exists$/.test(d)) {
    out.push("Find it with `authly admin user list --search TEXT`; change it with `authly admin user update USER ...`.");
  }
  return out;
}
