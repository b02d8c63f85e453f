/**
 * argon2id checks on worker threads (argon2-worker.ts), at most `size` at once and each on
 * its own worker, so a flood of sign-ins never stalls the event loop (the station's gate in
 * src/auth/password-check-gate.ts bounds how many wait). Workers hold hash-wasm's 64 MiB
 * each while in use and are ended after `idleMs` without work, which gives it back.
 */
import type { Argon2Reply, Argon2Request } from "./argon2-worker.ts";

type Job = {
  request: Argon2Request;
  resolve: (value: string | boolean) => void;
  reject: (err: Error) => void;
};
type Distribute<T> = T extends unknown ? Omit<T, "id"> : never;

export function createArgon2Pool(size = 2, idleMs = 10_000) {
  const idle: Worker[] = [];
  const queue: Job[] = [];
  const jobs = new Map<number, Job>();
  const current = new Map<Worker, number>();
  let workers = 0;
  let nextId = 1;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;

  function spawn(): Worker {
    const worker = new Worker(new URL("./argon2-worker.ts", import.meta.url), { type: "module" });
    workers++;
    worker.onmessage = ({ data }: MessageEvent<Argon2Reply>) => {
      const job = jobs.get(data.id);
      jobs.delete(data.id);
      current.delete(worker);
      if (data.ok) job?.resolve(data.value);
      else job?.reject(new Error(data.error));
      next(worker);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      workers--;
      const id = current.get(worker);
      current.delete(worker);
      if (id !== undefined) {
        jobs.get(id)?.reject(new Error(`argon2 worker failed: ${event.message}`));
        jobs.delete(id);
      }
      worker.terminate();
      const waiting = queue.shift();
      if (waiting) assign(spawn(), waiting);
    };
    return worker;
  }

  function next(worker: Worker) {
    const job = queue.shift();
    if (!job) {
      idle.push(worker);
      if (jobs.size === 0) scheduleIdleEnd();
      return;
    }
    assign(worker, job);
  }

  function assign(worker: Worker, job: Job) {
    jobs.set(job.request.id, job);
    current.set(worker, job.request.id);
    worker.postMessage(job.request);
  }

  function scheduleIdleEnd() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      for (const worker of idle.splice(0)) {
        worker.terminate();
        workers--;
      }
    }, idleMs);
  }

  function run(request: Distribute<Argon2Request>): Promise<string | boolean> {
    clearTimeout(idleTimer);
    return new Promise((resolve, reject) => {
      const job = { request: { ...request, id: nextId++ } as Argon2Request, resolve, reject };
      const worker = idle.pop() ?? (workers < size ? spawn() : undefined);
      if (!worker) {
        queue.push(job);
        return;
      }
      assign(worker, job);
    });
  }

  return {
    hash: async (password: string) => String(await run({ op: "hash", password })),
    verify: (password: string, hash: string) =>
      run({ op: "verify", password, hash }).then(
        (value) => value === true,
        () => false,
      ),
    /** Ends every worker at once (tests). */
    close() {
      clearTimeout(idleTimer);
      for (const worker of idle.splice(0)) worker.terminate();
      workers = 0;
    },
  };
}
