import { deviceTypes, type PushData } from "../../protocol/index.ts";
import { CliError, type CliIo, type CliOutcome, exit } from "../cli-io.ts";
import { openPairSession, type PairSession } from "../pair-session.ts";
import { parseFlags } from "../parse-flags.ts";

export const pairHelp = `Usage: opengenie pair [options]

Pairs a new ESP32 over Bluetooth through the running station: finds it, writes Wi-Fi and
MQTT credentials into it, and waits until it joins.

Interactive (no --address): shows the devices found, live, with signal strength; asks which
one, the Wi-Fi name and password (not echoed), and a name.

Scriptable:
  opengenie pair --address <mac> --ssid <ssid> --password-stdin --name <name> --type <type> [--json]

Options:
  --address <mac>     the candidate to pair (see GET /api/provisioning/candidates)
  --ssid <ssid>       Wi-Fi network name
  --password-stdin    read the Wi-Fi password from standard input (one line)
  --name <name>       the device's name (default: its advertised name)
  --type <type>       light, switch, sensor, pir or climate (default: guessed from the name)
  --json              print only the result as JSON: {"deviceId","ok","error"?,"device"?}
  --timeout <s>       how long to wait for the device to join (default 120)
  --user <name>       act as this user (default: the first owner or admin)
  --token <token>     use this access token instead (or OPENGENIE_TOKEN)
`;

type Candidate = PushData<"provisioning.candidate">;
type Result = PushData<"provisioning.result">;

const types: readonly string[] = deviceTypes;
export const guessType = (name: string) => types.find((t) => name.toLowerCase().includes(t)) ?? "light";

interface Watch {
  candidates: Map<string, Candidate>;
  waitForCandidates(predicate: () => boolean, timeoutMs: number): Promise<boolean>;
  waitForResult(deviceId: string, timeoutMs: number): Promise<Result | undefined>;
}

async function watchProvisioning(session: PairSession): Promise<Watch> {
  const candidates = new Map<string, Candidate>();
  const results = new Map<string, Result>();
  const wakers = new Set<() => void>();
  await session.client.subscribe("provisioning", undefined, (push) => {
    if (push.event === "provisioning.candidate") candidates.set(push.data.address, push.data);
    if (push.event === "provisioning.result") results.set(push.data.deviceId, push.data);
    for (const wake of wakers) wake();
  });
  const waitUntil = <T>(read: () => T | undefined, timeoutMs: number) =>
    new Promise<T | undefined>((resolve) => {
      const check = () => {
        const value = read();
        if (value === undefined) return;
        done(value);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      function done(value: T | undefined) {
        clearTimeout(timer);
        wakers.delete(check);
        resolve(value);
      }
      wakers.add(check);
      check();
    });
  return {
    candidates,
    waitForCandidates: async (predicate, timeoutMs) =>
      (await waitUntil(() => (predicate() ? true : undefined), timeoutMs)) ?? false,
    waitForResult: (deviceId, timeoutMs) => waitUntil(() => results.get(deviceId), timeoutMs),
  };
}

function describe(list: Candidate[]): string {
  return list
    .map((c, i) => `  ${String(i + 1).padStart(2)}) ${(c.name ?? "").padEnd(24)} ${c.address}  ${c.rssi} dBm`)
    .join("\n");
}

async function chooseInteractively(io: CliIo, watch: Watch) {
  io.stdout("scanning for devices that are ready to pair (Ctrl-C to stop)…\n");
  if (!(await watch.waitForCandidates(() => watch.candidates.size > 0, 30_000))) {
    throw new CliError("no device found in 30 s: is it powered, in pairing mode and near the station?");
  }
  for (;;) {
    const list = [...watch.candidates.values()].sort((a, b) => b.rssi - a.rssi);
    io.stdout(`${describe(list)}\n`);
    const answer = (await io.prompt(`pick a device [1-${list.length}], or Enter to refresh: `)).trim();
    if (answer === "") continue;
    const picked = list[Number(answer) - 1];
    if (picked) return picked;
    io.stdout(`"${answer}" is not on the list\n`);
  }
}

export async function pairCommand(args: string[], io: CliIo): Promise<CliOutcome> {
  const { values } = parseFlags("pair", args, {
    address: { type: "string" },
    ssid: { type: "string" },
    "password-stdin": { type: "boolean" },
    name: { type: "string" },
    type: { type: "string" },
    json: { type: "boolean" },
    timeout: { type: "string" },
    user: { type: "string" },
    token: { type: "string" },
  });
  if (values.help) {
    io.stdout(pairHelp);
    return exit(0);
  }
  const scripted = values.address !== undefined;
  if (scripted && !values.ssid) throw new CliError("--ssid is required with --address");
  if (values.type && !types.includes(values.type))
    throw new CliError(`--type must be one of ${types.join(", ")}`);
  const timeoutSec = Number(values.timeout ?? "120");
  if (!Number.isInteger(timeoutSec) || timeoutSec < 5 || timeoutSec > 600) {
    throw new CliError("--timeout takes whole seconds from 5 to 600, e.g. --timeout 120");
  }
  const timeoutMs = timeoutSec * 1000;
  const password = values["password-stdin"] ? (await io.readStdin()).replace(/\r?\n$/, "") : undefined;
  // Progress goes to stderr when stdout is reserved for the JSON result.
  const progress = (line: string) => (values.json ? io.stderr(`${line}\n`) : io.stdout(`${line}\n`));

  const session = await openPairSession(io, values);
  try {
    const watch = await watchProvisioning(session);
    let address = values.address;
    let advertised: string | undefined;
    if (scripted) {
      progress(`looking for ${address}…`);
      await watch.waitForCandidates(() => watch.candidates.has(address!), 15_000);
      advertised = watch.candidates.get(address!)?.name ?? undefined;
    } else {
      const picked = await chooseInteractively(io, watch);
      address = picked.address;
      advertised = picked.name ?? undefined;
    }
    const ssid = values.ssid ?? (await io.prompt("Wi-Fi network (SSID): ")).trim();
    const wifiPassword = password ?? (await io.prompt("Wi-Fi password: ", { hidden: true }));
    const defaultName = advertised || "New device";
    const name =
      values.name ??
      (scripted ? defaultName : (await io.prompt(`name [${defaultName}]: `)).trim() || defaultName);
    const type = values.type ?? guessType(advertised ?? name);

    progress(`writing Wi-Fi and station credentials to ${address}…`);
    const added = await session.api<{ deviceId?: string; error?: { code: string; message: string } }>(
      "/api/provisioning/add",
      { address, ssid, password: wifiPassword, name, type, joinTimeoutSec: timeoutMs / 1000 },
    );
    if (added.status !== 202 || !added.body.deviceId) {
      throw new CliError(added.body.error?.message ?? `the station answered ${added.status}`);
    }
    const deviceId = added.body.deviceId;
    progress(`waiting for ${deviceId} to join the network (up to ${timeoutMs / 1000} s)…`);
    // The station reports the outcome, with its reason, when its join timeout passes.
    const result = (await watch.waitForResult(deviceId, timeoutMs + 15_000)) ?? {
      deviceId,
      ok: false,
      error: `no result within ${timeoutMs / 1000} s; check the station log`,
    };
    const device = result.ok
      ? (await session.api<{ device: unknown }>(`/api/devices/${deviceId}`)).body.device
      : undefined;
    if (values.json) io.stdout(`${JSON.stringify({ ...result, ...(device ? { device } : {}) })}\n`);
    else
      io.stdout(
        result.ok ? `paired: ${name} (${type}) joined as ${deviceId}\n` : `pairing failed: ${result.error}\n`,
      );
    return exit(result.ok ? 0 : 1);
  } finally {
    await session.close();
  }
}
