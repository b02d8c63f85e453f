/** A boot service: started after the HTTP listener, stopped in reverse order (STYLE.md, CONTRACT.md 5). */
export interface Service {
  readonly name: string;
  /** When true, a failure to start stops the whole station (e.g. the embedded broker's port is busy). */
  readonly critical?: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}
