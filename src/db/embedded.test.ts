// The embedded database's loopback socket authenticates every connection (SCRAM-SHA-256) with the
// password generated into the data folder: pglite-socket alone accepts any user and password.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createPglite, embeddedDatabasePassword, serveOverSocket, startPglite } from "./embedded";

const PASSWORD = "the-right-password-0123456789";

function withPassword(url: string, password: string | null): string {
  const u = new URL(url);
  u.password = password ?? "";
  return u.toString();
}

async function query(url: string): Promise<unknown> {
  const sql = postgres(url, { max: 1, connect_timeout: 10, idle_timeout: 1, onnotice: () => {} });
  try {
    const [row] = await sql`SELECT 41 + 1 AS n`;
    return row!.n;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

describe("embedded database socket authentication", () => {
  test("connecting with a wrong or no password fails (28P01); with the right one it works", async () => {
    const served = await serveOverSocket(await createPglite(), 4, PASSWORD);
    afterAll(() => served.stop());
    expect(new URL(served.url).hostname).toBe("127.0.0.1");
    expect(decodeURIComponent(new URL(served.url).password)).toBe(PASSWORD);
    await expect(query(withPassword(served.url, "wrong-password"))).rejects.toMatchObject({ code: "28P01" });
    await expect(query(withPassword(served.url, null))).rejects.toThrow();
    const other = new URL(served.url);
    other.username = "mallory";
    other.password = "anything";
    await expect(query(other.toString())).rejects.toMatchObject({ code: "28P01" });
    expect(await query(served.url)).toBe(42);
    // A refused attempt leaves the server serving others.
    expect(await query(served.url)).toBe(42);
  });

  test("a raw client that skips authentication gets no query through", async () => {
    const served = await serveOverSocket(await createPglite(), 2, PASSWORD);
    afterAll(() => served.stop());
    const { connect } = await import("node:net");
    const u = new URL(served.url);
    const startup = Buffer.concat([Buffer.alloc(8), Buffer.from("user\0postgres\0database\0postgres\0\0")]);
    startup.writeInt32BE(startup.length, 0);
    startup.writeInt32BE(196608, 4);
    const q = Buffer.from("SELECT 1\0");
    const query1 = Buffer.concat([Buffer.from("Q"), Buffer.alloc(4), q]);
    query1.writeInt32BE(q.length + 4, 1);
    const got = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      const sock = connect(Number(u.port), "127.0.0.1", () => sock.write(Buffer.concat([startup, query1])));
      sock.on("data", (d: Buffer) => chunks.push(d));
      sock.on("close", () => resolve(Buffer.concat(chunks)));
      sock.on("error", () => resolve(Buffer.concat(chunks)));
      setTimeout(() => (sock.destroy(), resolve(Buffer.concat(chunks))), 5000);
    });
    // AuthenticationSASL offering SCRAM-SHA-256, then the refusal; never a row or ReadyForQuery.
    expect(got[0]).toBe("R".charCodeAt(0));
    expect(got.readInt32BE(5)).toBe(10);
    expect(got.toString("latin1")).toContain("SCRAM-SHA-256");
    expect(got.toString("latin1")).toContain("28P01");
    expect(got.includes(Buffer.from("Z\0\0\0\x05"))).toBe(false);
  });

  test("the data folder keeps the generated password (0600) across restarts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "authly-embedded-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const password = embeddedDatabasePassword(dir);
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(statSync(join(dir, "db-password")).mode & 0o777).toBe(0o600);
    expect(embeddedDatabasePassword(dir)).toBe(password);
    expect(readFileSync(join(dir, "db-password"), "utf8").trim()).toBe(password);
    const db = await startPglite({ dataDir: dir, maxConnections: 2 });
    try {
      expect(decodeURIComponent(new URL(db.url).password)).toBe(password);
      expect(await query(db.url)).toBe(42);
      await expect(query(withPassword(db.url, "postgres"))).rejects.toMatchObject({ code: "28P01" });
    } finally {
      await db.stop();
    }
  }, 120_000);
});
