// A loopback TCP proxy in front of PostgreSQL that a test can cut, blackhole, slow down and
// restore: the faults of a database that goes away, a network that stops answering, and a slow link.
import net from "node:net";

export type ProxyState = "up" | "down" | "blackhole" | "frozen";

export interface TcpProxy {
  port: number;
  /** postgres URL of `target` with host:port replaced by the proxy. */
  url(targetUrl: string): string;
  state(): ProxyState;
  /** Connections currently open through the proxy (client side). */
  connections(): number;
  /** Total connections accepted since start. */
  accepted(): number;
  /** Closes every open connection and every new one (the database stopped). */
  cut(): Promise<void>;
  /** Keeps sockets open but forwards nothing, in either direction (a network partition). */
  blackhole(): void;
  /** Holds every byte in both directions, in order, until thaw() (a frozen database or link that
   *  delivers late: what was sent meanwhile still arrives, and executes). */
  freeze(): void;
  /** Calls freeze() when the client sends a chunk containing `text` (that chunk is held too). */
  freezeOnClientBytes(text: string): void;
  /** Delivers what freeze() held, in order, and forwards normally again. */
  thaw(): void;
  /** Back to normal forwarding. Blackholed sockets are closed. */
  restore(): Promise<void>;
  /** Delay in ms added to every chunk in both directions (order preserved). */
  setLatency(ms: number): void;
  stop(): Promise<void>;
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, "utf8");
  const head = Buffer.alloc(5);
  head.write("E", 0, "ascii");
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}
const SHUTTING_DOWN = errorResponse("57P03", "the database system is shutting down");

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let state: ProxyState = "up";
  let latency = 0;
  let accepted = 0;
  let frozen: { gate: Promise<void>; open: () => void } | undefined;
  let freezeTrigger: Buffer | undefined;
  const freeze = () => {
    if (frozen) return;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    frozen = { gate, open };
    state = "frozen";
  };
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();

  const forward = (from: net.Socket, to: net.Socket, fromClient = false) => {
    // A chain keeps chunks in order when latency is added.
    let chain = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      if (state === "blackhole") return;
      if (fromClient && freezeTrigger && chunk.includes(freezeTrigger)) {
        freezeTrigger = undefined;
        freeze();
      }
      if (frozen) {
        const gate = frozen.gate;
        chain = chain.then(() => gate).then(() => {
          if (!to.destroyed) to.write(chunk);
        });
        return;
      }
      const delay = latency;
      if (delay <= 0) {
        chain = chain.then(() => {
          if (!to.destroyed) to.write(chunk);
        });
        return;
      }
      chain = chain.then(
        () =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              if (state !== "blackhole" && !to.destroyed) to.write(chunk);
              resolve();
            }, delay),
          ),
      );
    });
  };

  const onConnection = (client: net.Socket) => {
    accepted++;
    if (state === "down") {
      // What PostgreSQL answers while shutting down or starting up: FATAL 57P03 to the startup packet.
      client.once("data", () => client.end(SHUTTING_DOWN));
      client.on("error", () => client.destroy());
      return;
    }
    const upstream = net.connect({ host: targetHost, port: targetPort });
    const pair = { client, upstream };
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
    forward(client, upstream, true);
    forward(upstream, client);
  };

  const server = net.createServer(onConnection);
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });

  const closeAll = () => {
    for (const p of pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    pairs.clear();
  };
  const closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()));

  return {
    port,
    url(targetUrl) {
      const u = new URL(targetUrl);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    state: () => state,
    connections: () => pairs.size,
    accepted: () => accepted,
    async cut() {
      if (state === "down") return;
      state = "down";
      closeAll();
      // New connections get PostgreSQL's own "shutting down" error. (Closing and re-opening the
      // listener to refuse connections left some connects hanging in Bun.)
    },
    blackhole() {
      state = "blackhole";
    },
    freeze,
    freezeOnClientBytes(text) {
      freezeTrigger = Buffer.from(text, "utf8");
    },
    thaw() {
      frozen?.open();
      frozen = undefined;
      if (state === "frozen") state = "up";
    },
    async restore() {
      frozen?.open();
      frozen = undefined;
      const was = state;
      state = "up";
      if (was === "blackhole") closeAll();
    },
    setLatency(ms) {
      latency = ms;
    },
    async stop() {
      state = "down";
      closeAll();
      if (server.listening) await closeServer();
    },
  };
}
