#!/usr/bin/env bun
/**
 * Release build: the release set install.sh downloads (CONTRACT.md §8, docs/install.md), in
 * dist/: one self-contained executable per Linux architecture, each with a sha256sum-format
 * checksum beside it, install.sh itself, and VERSION (one line, the version the binaries
 * print), so a `file://` URL of dist/ is a complete download location.
 *
 *   bun build.ts [--target x64|arm64|all] [--out-dir <dir>]
 *
 * Cross-compiling makes `bun build --compile` download the target's Bun runtime from
 * GitHub. CI and the build machines reach only the npm registry, so the runtime comes from
 * the `@oven/bun-linux-<arch>` npm package instead (the same binary Bun's own npm installer
 * uses) and is passed as `compile.executablePath`.
 */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

export type Arch = "x64" | "arm64";
export const ARCHES: readonly Arch[] = ["x64", "arm64"];

export interface BuildOptions {
  arches?: readonly Arch[];
  /** Defaults to env OPENGENIE_VERSION, else package.json's version. */
  version?: string;
  outDir?: string;
  log?: (line: string) => void;
}

export interface BuiltBinary {
  arch: Arch;
  path: string;
  sha256: string;
  bytes: number;
  bytecode: boolean;
  /** How the binary was checked: run natively, under qemu, or not at all. */
  verified: "native" | "qemu" | "no";
}

const ROOT = import.meta.dir;
const ENTRY = join(ROOT, "bin", "opengenie.ts");
const INSTALLER = join(ROOT, "install.sh");
export const DIST_DIR = join(ROOT, "dist");
const RUNTIME_CACHE = join(ROOT, ".cache", "bun-runtimes");
/**
 * Which functions a typical station run uses (tools/record-bytecode-order.ts): Bun lays their
 * bytecode out together, so an idle station touches fewer pages of it (issue 17).
 */
const BYTECODE_ORDER = join(ROOT, "tools", "bytecode-order.txt");
const STARTUP_JIT_POLICY = 16;

/** Bun names its npm runtime packages with `aarch64`, its compile targets with `arm64`. */
const RUNTIME_PACKAGE: Record<Arch, string> = {
  x64: "@oven/bun-linux-x64",
  arm64: "@oven/bun-linux-aarch64",
};
const QEMU: Record<Arch, { binary: string; sysroot: string }> = {
  x64: { binary: "qemu-x86_64-static", sysroot: "/usr/x86_64-linux-gnu" },
  arm64: { binary: "qemu-aarch64-static", sysroot: "/usr/aarch64-linux-gnu" },
};

const QEMU_LIBC: Record<Arch, string> = { x64: "libc6-amd64-cross", arm64: "libc6-arm64-cross" };

export function binaryName(arch: Arch): string {
  return `opengenie-linux-${arch}`;
}

/** What goes into the binary: a dist/ file older than any of these is stale. */
const SOURCES = ["src", "bin", "package.json", "package-lock.json", "build.ts", "tools/bytecode-order.txt"];

/** True when dist/opengenie-linux-<arch> exists and is newer than every source file. */
export function binaryIsCurrent(arch: Arch, outDir = DIST_DIR): boolean {
  const path = join(outDir, binaryName(arch));
  if (!existsSync(path)) return false;
  let newest = 0;
  const visit = (file: string) => {
    const stat = statSync(file);
    if (stat.isDirectory()) for (const entry of readdirSync(file)) visit(join(file, entry));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const source of SOURCES) if (existsSync(join(ROOT, source))) visit(join(ROOT, source));
  return statSync(path).mtimeMs >= newest;
}

export function releaseVersion(env: Record<string, string | undefined> = process.env): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  const version = (env.OPENGENIE_VERSION ?? pkg.version).replace(/^v/, "");
  if (!/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/.test(version)) {
    throw new Error(`OPENGENIE_VERSION "${version}" is not a version like 1.2.3`);
  }
  return version;
}

export async function buildBinaries(options: BuildOptions = {}): Promise<BuiltBinary[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const version = options.version ?? releaseVersion();
  const outDir = options.outDir ?? DIST_DIR;
  mkdirSync(outDir, { recursive: true });
  const built: BuiltBinary[] = [];
  for (const arch of options.arches ?? ARCHES) {
    built.push(await buildOne(arch, version, outDir, log));
  }
  writeReleaseFiles(outDir, version);
  return built;
}

/**
 * The release set's files besides the binaries: install.sh, and VERSION, which install.sh
 * reads to say what it installs and to check it against OPENGENIE_VERSION.
 */
export function writeReleaseFiles(outDir: string, version: string): void {
  mkdirSync(outDir, { recursive: true });
  for (const [name, write] of [
    ["install.sh", (path: string) => copyFileSync(INSTALLER, path)],
    ["VERSION", (path: string) => writeFileSync(path, `${version}\n`)],
  ] as const) {
    // Through a rename, as the binaries: a concurrent reader sees the old file or the new one.
    const tmp = join(outDir, `.${name}.${process.pid}.tmp`);
    write(tmp);
    chmodSync(tmp, name === "install.sh" ? 0o755 : 0o644);
    renameSync(tmp, join(outDir, name));
  }
}

async function buildOne(
  arch: Arch,
  version: string,
  outDir: string,
  log: (line: string) => void,
): Promise<BuiltBinary> {
  const name = binaryName(arch);
  const finalPath = join(outDir, name);
  // Build beside the target and rename at the end, so a failed build never leaves a
  // half-written binary that looks newer than the sources.
  const tmpPath = join(outDir, `.${name}.${process.pid}.tmp`);
  const runtime = await bunRuntime(arch, log);
  const started = performance.now();

  // Bytecode skips parsing ~500 modules at every start: measured 2-3x faster to the first
  // /api/health answer, on x64 and on arm64 under qemu (so JSC accepts bytecode generated
  // on another architecture). It is a cache a runtime may reject and fall back to the
  // embedded source, but a bundler bug could still yield a binary that fails to start, so
  // each binary is run (natively, or under qemu when installed) before it is accepted, and
  // on failure the build is redone without bytecode.
  let bytecode = true;
  let verified: BuiltBinary["verified"];
  try {
    await compile(arch, version, runtime, tmpPath, true);
    verified = await verify(arch, tmpPath, version, log);
  } catch (err) {
    log(`  ${arch}: bytecode build failed (${(err as Error).message.split("\n")[0]}); retrying without`);
    bytecode = false;
    try {
      await compile(arch, version, runtime, tmpPath, false);
      verified = await verify(arch, tmpPath, version, log);
    } catch (retryErr) {
      rmSync(tmpPath, { force: true });
      throw retryErr;
    }
  }

  renameSync(tmpPath, finalPath);
  const sha256 = await sha256File(finalPath);
  await Bun.write(`${finalPath}.sha256`, `${sha256}  ${name}\n`);
  const bytes = statSync(finalPath).size;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  log(
    `  ${arch}: ${finalPath} ${(bytes / 1e6).toFixed(1)} MB, ${bytecode ? "bytecode" : "no bytecode"}, ` +
      `verified: ${verified}, ${seconds} s`,
  );
  return { arch, path: finalPath, sha256, bytes, bytecode, verified };
}

async function compile(arch: Arch, version: string, runtime: string, outfile: string, bytecode: boolean) {
  const result = await Bun.build({
    entrypoints: [ENTRY],
    target: "bun",
    format: "esm",
    minify: true,
    bytecode,
    define: {
      OPENGENIE_BUILD_VERSION: JSON.stringify(version),
      // `opengenie doctor` fails a clock set before this (tokens and TLS break). A release
      // built from the same sources again sets SOURCE_DATE_EPOCH to get the same bytes.
      OPENGENIE_BUILD_TIME: JSON.stringify(buildTime().toISOString()),
    },
    compile: {
      target: `bun-linux-${arch}`,
      executablePath: runtime,
      outfile,
      // Configuration comes only from flags, environment and <data-dir>/config.json
      // (CONTRACT.md §1): a stray .env or bunfig.toml (whose `preload` runs code) in the
      // daemon's working directory must not change what it does.
      autoloadDotenv: false,
      autoloadBunfig: false,
      bytecodeOrder: bytecode && existsSync(BYTECODE_ORDER) ? BYTECODE_ORDER : null,
      // The JIT compiles code only after 16× the usual runs until the station has started
      // (platform.startupDone): start-up code runs once, and compiling it cost 5-9 ms of the
      // start and 4 MB of idle RSS (issue 17, docs/performance.md).
      jitPolicy: STARTUP_JIT_POLICY,
    },
    throw: false,
  });
  if (!result.success) {
    rmSync(outfile, { force: true });
    throw new Error(result.logs.map((entry) => String(entry)).join("\n") || "bun build failed");
  }
}

function buildTime(env: Record<string, string | undefined> = process.env): Date {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000);
  return new Date();
}

/** Runs `<binary> version` natively, or under qemu-user when it is installed. */
async function verify(
  arch: Arch,
  path: string,
  version: string,
  log: (line: string) => void,
): Promise<BuiltBinary["verified"]> {
  let command: string[];
  let how: BuiltBinary["verified"];
  if (arch === hostArch()) {
    command = [path, "version"];
    how = "native";
  } else {
    const qemu = QEMU[arch];
    const emulator = Bun.which(qemu.binary);
    if (!emulator) {
      log(`  ${arch}: not run (install qemu-user-static to check it here)`);
      return "no";
    }
    // The binary is linked against glibc: without the target's loader (Debian's
    // libc6-<arch>-cross puts it in the sysroot) qemu cannot start it, which says nothing
    // about the binary.
    if (!existsSync(qemu.sysroot)) {
      log(`  ${arch}: not run (install ${QEMU_LIBC[arch]} to check it under ${qemu.binary})`);
      return "no";
    }
    command = [emulator, "-L", qemu.sysroot, path, "version"];
    how = "qemu";
  }
  const proc = Bun.spawn(command, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0 || stdout.trim() !== version) {
    throw new Error(`"${path} version" exited ${code}, printed "${stdout.trim()}" ${stderr.trim()}`);
  }
  return how;
}

/** The architecture of this machine's binary; undefined off Linux x64/arm64. */
export function hostArch(): Arch | undefined {
  if (process.platform !== "linux") return undefined;
  return process.arch === "x64" || process.arch === "arm64" ? process.arch : undefined;
}

/** dist/opengenie-linux-<arch> for this machine, built first when missing or older than a source. */
export async function hostBinary(log: (line: string) => void): Promise<string | undefined> {
  const arch = hostArch();
  if (!arch) return undefined;
  if (!binaryIsCurrent(arch)) {
    log(`building dist/${binaryName(arch)} first`);
    await buildBinaries({ arches: [arch], log });
  }
  return join(DIST_DIR, binaryName(arch));
}

/**
 * The Bun runtime an executable for `arch` is built on. It must be the very version that
 * compiles (the embedded-module format is private to each release), so it is pinned to
 * Bun.version, which is node_modules/bun's when run through `npm run build`.
 */
export async function bunRuntime(arch: Arch, log: (line: string) => void): Promise<string> {
  const pkgName = RUNTIME_PACKAGE[arch];
  const version = Bun.version;
  warnOnBunMismatch(log);

  // npm installs the host's runtime package as an optional dependency of `bun`, whose
  // postinstall then moves the binary to node_modules/bun/bin/bun.exe. A musl package
  // beside it would make that binary ambiguous, so then the npm package is fetched.
  const modules = join(ROOT, "node_modules");
  const installedExe = join(modules, "bun", "bin", "bun.exe");
  if (
    arch === hostArch() &&
    packageVersion(join(modules, pkgName)) === version &&
    packageVersion(join(modules, "bun")) === version &&
    !existsSync(join(modules, `${pkgName}-musl`)) &&
    existsSync(installedExe)
  ) {
    return installedExe;
  }

  const cached = join(RUNTIME_CACHE, `${pkgName.replace("@oven/", "")}-${version}`, "bun");
  if (existsSync(cached)) return cached;

  log(`  ${arch}: fetching ${pkgName}@${version} from the npm registry`);
  mkdirSync(RUNTIME_CACHE, { recursive: true });
  const work = join(RUNTIME_CACHE, `.fetch-${arch}-${process.pid}`);
  mkdirSync(work, { recursive: true });
  try {
    const pack = Bun.spawn(["npm", "pack", `${pkgName}@${version}`, "--json", "--pack-destination", work], {
      cwd: work,
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(pack.stdout).text(),
      new Response(pack.stderr).text(),
      pack.exited,
    ]);
    if (code !== 0) throw new Error(`npm pack ${pkgName}@${version} failed: ${stderr.trim()}`);
    const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
    const archive = new Bun.Archive(await Bun.file(join(work, filename)).arrayBuffer());
    const files = await archive.files("package/bin/bun");
    const bun = files.get("package/bin/bun");
    if (!bun) throw new Error(`${filename} holds no package/bin/bun`);
    const staged = join(work, "bun");
    await Bun.write(staged, bun);
    chmodSync(staged, 0o755);
    mkdirSync(join(cached, ".."), { recursive: true });
    // rename is atomic, so a concurrent build sees either no runtime or a whole one.
    renameSync(staged, cached);
    return cached;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

let warnedMismatch = false;
function warnOnBunMismatch(log: (line: string) => void) {
  const pinned = packageVersion(join(ROOT, "node_modules", "bun"));
  if (warnedMismatch || !pinned || pinned === Bun.version) return;
  warnedMismatch = true;
  log(`  warning: building with Bun ${Bun.version}, but package.json pins ${pinned}; use npm run build`);
}

function packageVersion(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** The web app's script: src/http/web/app.ts bundled for browsers, kept in the repository. */
export const WEB_ENTRY = join(ROOT, "src", "http", "web", "app.ts");
export const WEB_BUNDLE = join(ROOT, "src", "http", "web", "app-script.generated.ts");

/** Bundles the web app's script and returns the module text that carries it as a string. */
export async function bundleWebApp(): Promise<string> {
  const result = await Bun.build({
    entrypoints: [WEB_ENTRY],
    target: "browser",
    format: "esm",
    minify: true,
  });
  if (!result.success) throw new Error(`web app bundle failed: ${result.logs.map(String).join("; ")}`);
  const script = await result.outputs[0]!.text();
  return `// Generated by \`bun build.ts --web\` from src/http/web/app.ts; do not edit.\nexport const appScript = ${JSON.stringify(script)};\n`;
}

const USAGE = `Usage: bun build.ts [--target x64|arm64|all] [--out-dir <dir>] | --web

--web only regenerates src/http/web/app-script.generated.ts (the web app's bundled script).

Builds the release set in dist/ (or --out-dir): opengenie-linux-<arch> and
opengenie-linux-<arch>.sha256 for each target, install.sh and VERSION.
The version is env OPENGENIE_VERSION if set, else package.json's.
`;

async function main(argv: string[]): Promise<number> {
  let target: string;
  let outDir: string;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        target: { type: "string", default: "all" },
        "out-dir": { type: "string", default: DIST_DIR },
        web: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (values.web) {
      await Bun.write(WEB_BUNDLE, await bundleWebApp());
      console.log(`wrote ${WEB_BUNDLE}`);
      return 0;
    }
    target = values.target;
    outDir = values["out-dir"];
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  if (target !== "all" && !ARCHES.includes(target as Arch)) {
    process.stderr.write(`error: --target must be x64, arm64 or all, not "${target}"\n`);
    return 1;
  }
  const arches = target === "all" ? ARCHES : [target as Arch];
  try {
    const version = releaseVersion();
    console.log(`building opengenie ${version} for linux-${arches.join(", linux-")} with Bun ${Bun.version}`);
    const built = await buildBinaries({ arches, version, outDir });
    console.log(`done: ${built.map((b) => b.path).join(", ")}`);
    return 0;
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
