/**
 * The part of Deno's runtime API the Deno platform calls, declared as `deno types` (lib.deno)
 * declares it. The whole lib.deno cannot be included: it redeclares the DOM and Node globals
 * bun-types already declares for the rest of the project. Only src/platform/deno/ and the
 * entry point use these; everything else reaches the runtime through `Platform`.
 */
declare namespace Deno {
  const version: { readonly deno: string; readonly v8: string; readonly typescript: string };
  const build: { readonly os: string; readonly arch: string };
  const pid: number;

  interface NetAddr {
    transport: "tcp" | "udp";
    hostname: string;
    port: number;
  }

  interface ServeHandlerInfo {
    remoteAddr: NetAddr;
  }

  interface HttpServer {
    readonly finished: Promise<void>;
    readonly addr: NetAddr;
    shutdown(): Promise<void>;
  }

  interface ServeOptions {
    hostname?: string;
    port?: number;
    reusePort?: boolean;
    signal?: AbortSignal;
    onListen?: (localAddr: NetAddr) => void;
    onError?: (error: unknown) => Response | Promise<Response>;
    handler: (request: Request, info: ServeHandlerInfo) => Response | Promise<Response>;
  }

  function serve(options: ServeOptions): HttpServer;

  interface UpgradeWebSocketOptions {
    protocol?: string;
    /** Seconds without a pong before Deno closes the socket itself; 0 = never. */
    idleTimeout?: number;
  }

  function upgradeWebSocket(
    request: Request,
    options?: UpgradeWebSocketOptions,
  ): { socket: WebSocket; response: Response };

  /** A custom client for fetch and WebSocket (`caCerts` are trusted besides the system roots). */
  class HttpClient {
    close(): void;
  }

  function createHttpClient(options: { caCerts?: string[] }): HttpClient;

  type Signal = "SIGTERM" | "SIGINT" | "SIGKILL" | "SIGHUP" | "SIGQUIT" | "SIGUSR1" | "SIGUSR2";

  interface CommandOptions {
    args?: string[];
    cwd?: string;
    clearEnv?: boolean;
    env?: Record<string, string>;
    stdin?: "piped" | "inherit" | "null";
    stdout?: "piped" | "inherit" | "null";
    stderr?: "piped" | "inherit" | "null";
  }

  interface CommandStatus {
    success: boolean;
    code: number;
    signal: Signal | null;
  }

  interface ChildProcess {
    readonly pid: number;
    readonly stdin: WritableStream<Uint8Array>;
    readonly stdout: ReadableStream<Uint8Array>;
    readonly stderr: ReadableStream<Uint8Array>;
    readonly status: Promise<CommandStatus>;
    kill(signo?: Signal): void;
  }

  class Command {
    constructor(command: string, options?: CommandOptions);
    spawn(): ChildProcess;
  }

  namespace errors {
    class AddrInUse extends Error {}
    class PermissionDenied extends Error {}
  }
}
