/**
 * The Deno platform's outbound WebSocket (the cloud link's transport) in a real Deno process
 * against a real `wss://` server whose certificate a private CA signed: verification on, the
 * CA trusted only when given, every failure one `close` and never a throw, no ping method.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";
import { denoExecutable } from "../../../tests/helpers/deno-binary.ts";
import { makeTempDir } from "../../../tests/helpers/temp-dir.ts";

const dir = makeTempDir("opengenie-deno-ws-");
let server: Server<undefined>;
let ca = "";

function openssl(...args: string[]) {
  const made = Bun.spawnSync(["openssl", ...args], { stderr: "pipe" });
  if (made.exitCode !== 0) throw new Error(made.stderr.toString());
}

beforeAll(() => {
  const at = (name: string) => join(dir.path, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    at("ca.key"),
    "-out",
    at("ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=ca",
  );
  openssl("req", ...ec, "-keyout", at("relay.key"), "-out", at("relay.csr"), "-subj", "/CN=relay");
  writeFileSync(at("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
  openssl(
    "x509",
    "-req",
    "-in",
    at("relay.csr"),
    "-CA",
    at("ca.pem"),
    "-CAkey",
    at("ca.key"),
    "-CAcreateserial",
    "-out",
    at("relay.pem"),
    "-days",
    "2",
    "-extfile",
    at("ext.cnf"),
  );
  ca = at("ca.pem");
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: Bun.file(at("relay.pem")), key: Bun.file(at("relay.key")) },
    fetch: (request, srv) => (srv.upgrade(request) ? undefined : new Response("no", { status: 400 })),
    websocket: {
      message(ws, message) {
        if (message === "binary please") ws.send(new Uint8Array([1, 2, 3]));
        else if (message === "bye") ws.close(4321, "bye");
        else ws.send(`echo ${message}`);
      },
    },
  });
});
afterAll(async () => {
  await server?.stop(true);
  dir.remove();
});

/** Runs connectDenoWebSocket in Deno and returns what its handlers saw, in order. */
async function inDeno(url: string, caFile: string | undefined, script: string): Promise<unknown[]> {
  const file = join(dir.path, `client-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(
    file,
    `import { connectDenoWebSocket } from ${JSON.stringify(join(import.meta.dir, "deno-websocket-client.ts"))};
const seen = [];
const caFile = ${JSON.stringify(caFile ?? null)};
const ca = caFile ? await Deno.readTextFile(caFile) : undefined;
let socket;
await new Promise((done) => {
  socket = connectDenoWebSocket(${JSON.stringify(url)}, { ca }, {
    open: () => { seen.push(["open", typeof socket.ping]); ${script} },
    message: (text) => seen.push(["message", text]),
    pong: () => seen.push(["pong"]),
    close: (code, reason) => { seen.push(["close", code, reason]); setTimeout(done, 50); },
  });
});
console.log(JSON.stringify(seen));
`,
  );
  const proc = Bun.spawn([denoExecutable(), "run", "--no-prompt", "--allow-net", "--allow-read", file], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", DENO_DIR: join(dir.path, "deno-dir"), NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`deno exited ${code}: ${err}`);
  return JSON.parse(out);
}

const wss = () => `wss://127.0.0.1:${server.port}/`;

test("with the private CA: open (no ping method), text both ways, binary as unusable text, the server's close code", async () => {
  const seen = await inDeno(
    wss(),
    ca,
    `socket.send("hi"); socket.send("binary please"); socket.send("bye");`,
  );
  expect(seen).toEqual([
    ["open", "undefined"],
    ["message", "echo hi"],
    ["message", "\u0000binary"],
    ["close", 4321, "bye"],
  ]);
}, 30_000);

test("without the CA the certificate is refused: one close naming it, never an open", async () => {
  const seen = (await inDeno(wss(), undefined, "")) as [string, number, string][];
  expect(seen).toHaveLength(1);
  expect(seen[0]![0]).toBe("close");
  expect(seen[0]![1]).toBe(1006);
  expect(seen[0]![2]).toContain("certificate");
}, 30_000);

test("a garbage CA file or a port nobody listens on: one close, no throw", async () => {
  writeFileSync(
    join(dir.path, "garbage.pem"),
    "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
  );
  const garbage = await inDeno(wss(), join(dir.path, "garbage.pem"), "");
  expect(garbage).toEqual([["close", 1006, expect.any(String)]]);
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port;
  await probe.stop(true);
  const refused = await inDeno(`ws://127.0.0.1:${port}/`, undefined, "");
  expect(refused).toEqual([["close", 1006, expect.any(String)]]);
}, 30_000);

test("our close is reported at once, once, with our code", async () => {
  const seen = await inDeno(wss(), ca, `socket.close(4000, "no pong"); socket.close(1000, "again");`);
  expect(seen).toEqual([
    ["open", "undefined"],
    ["close", 4000, "no pong"],
  ]);
}, 30_000);
