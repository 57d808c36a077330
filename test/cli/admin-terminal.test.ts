// The admin CLI on a real terminal (tmux): interactive login prompts for the username and hides
// the password; destructive commands ask for confirmation, and only "y" goes ahead.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { ADMIN_PASSWORD, startCliWorld, type CliWorld } from "./admin-support";
import { hasTmux, startTerminal } from "./terminal-support";

// Every test runs real processes (often several) on a shared, busy machine.
setDefaultTimeout(120_000);

const w: CliWorld = await startCliWorld();
const { screen, waitFor, type } = startTerminal(w, { session: "t", rows: 50, history: 200 });

// CI installs tmux and must run these (a missing tmux fails them there); elsewhere: skipped, said so.
if (!hasTmux && !process.env.CI) console.warn("terminal tests skipped: tmux is missing (apt-get install -y tmux)");
describe.skipIf(!hasTmux && !process.env.CI)("on a terminal", () => {
  test("interactive login asks for the username, hides the password, and logs in", async () => {
    await waitFor("$ ");
    type("authly admin auth login; echo EXIT=$?");
    await waitFor("Username: ");
    type("admin");
    await waitFor("Password: ");
    type(ADMIN_PASSWORD);
    const s = await waitFor(/EXIT=\d/);
    expect(s).toContain("Username: admin");
    expect(s).toMatch(/Password: *\n/);
    expect(s).not.toContain(ADMIN_PASSWORD);
    expect(s).toContain("✓ Successfully logged in as admin");
    expect(s).toContain("Token stored securely in");
    expect(s).toContain("EXIT=0");
  });

  test("a wrong password typed at the prompt is exit 2, and is not shown either", async () => {
    const from = screen().length;
    type("authly admin auth login --username admin; echo EXIT2=$?");
    await waitFor("Password: ", from);
    type("not-the-password-42");
    const s = await waitFor(/EXIT2=\d/, from);
    expect(s).not.toContain("not-the-password-42");
    expect(s).toContain("Error: Login failed: invalid username or password");
    expect(s).toContain("EXIT2=2");
  });

  test("logging in with a temporary password asks for a new one at once, hidden and twice", async () => {
    const created = JSON.parse((await w.cli(["admin", "user", "create", "--username", "dave", "--email", "dave@example.com", "--admin", "--generate-password", "--output", "json"])).stdout);
    const from = screen().length;
    type("AUTHLY_CONFIG_DIR=$HOME/dave authly admin auth login --username dave; echo EXITD=$?");
    await waitFor("Password: ", from);
    type(created.generated_password);
    await waitFor("New password: ", from);
    type("Dave-New-Password-77");
    await waitFor("Repeat new password: ", from);
    type("Dave-New-Password-77");
    const s = await waitFor(/EXITD=\d/, from);
    expect(s).toContain("Your password is temporary: choose a new one now.");
    expect(s).toContain("✓ Password changed");
    expect(s).toContain("EXITD=0");
    expect(s).not.toContain(created.generated_password);
    expect(s).not.toContain("Dave-New-Password-77");
    const again = await w.cli(["admin", "auth", "login", "--username", "dave", "--password", "Dave-New-Password-77"], { env: { AUTHLY_CONFIG_DIR: `${w.home}/dave2` } });
    expect(again.code).toBe(0);
    expect(again.stderr).toBe("");
  });

  test("client delete asks; 'n' aborts and changes nothing, 'y' deactivates", async () => {
    // Log in again (the failed attempt above did not touch the stored tokens, but be explicit).
    const created = JSON.parse((await w.cli(["admin", "client", "create", "--name", "Prompted", "--type", "public", "--redirect-uri", "http://localhost:3000/cb", "--output", "json"])).stdout);
    let from = screen().length;
    type(`authly admin client delete ${created.client_id}; echo EXIT3=$?`);
    await waitFor(`Deactivate client 'Prompted' (${created.client_id})? [y/N]: `, from);
    type("n");
    let s = await waitFor(/EXIT3=\d/, from);
    expect(s).toContain("Error: Aborted");
    expect(s).toContain("EXIT3=1");
    const still = JSON.parse((await w.cli(["admin", "client", "show", created.client_id, "--output", "json"])).stdout);
    expect(still.is_active).toBe(true);

    from = screen().length;
    type(`authly admin client delete ${created.client_id}; echo EXIT4=$?`);
    await waitFor("[y/N]: ", from);
    type("y");
    s = await waitFor(/EXIT4=\d/, from);
    expect(s).toContain("✓ Client 'Prompted' deactivated");
    expect(s).toContain("EXIT4=0");
    const gone = await w.cli(["admin", "client", "list", "--output", "json"]);
    expect(JSON.parse(gone.stdout).clients.map((c: any) => c.client_id)).not.toContain(created.client_id);
  });

  test("regenerate-secret and key rotate ask too; --confirm does not", async () => {
    const created = JSON.parse((await w.cli(["admin", "client", "create", "--name", "Secretive", "--type", "confidential", "--redirect-uri", "https://s.example/cb", "--output", "json"])).stdout);
    let from = screen().length;
    type(`authly admin client regenerate-secret ${created.client_id}; echo EXIT5=$?`);
    await waitFor(`Regenerate the secret of client 'Secretive' (${created.client_id})? The old secret stops working at once. [y/N]: `, from);
    type("yes");
    let s = await waitFor(/EXIT5=\d/, from);
    expect(s).toContain("✓ Client secret regenerated");
    expect(s).toContain("EXIT5=0");

    from = screen().length;
    type("authly admin key rotate --alg EdDSA; echo EXIT6=$?");
    await waitFor("Rotate the EdDSA signing key? [y/N]: ", from);
    type("");
    s = await waitFor(/EXIT6=\d/, from);
    expect(s).toContain("Error: Aborted");
    expect(s).toContain("EXIT6=1");

    from = screen().length;
    type("authly admin scope create --name prompted --description x >/dev/null; authly admin scope delete prompted --confirm; echo EXIT7=$?");
    s = await waitFor(/EXIT7=\d/, from);
    expect(s.slice(from)).not.toContain("[y/N]");
    expect(s).toContain("EXIT7=0");
  });
});
