import { createInterface, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";

/**
 * Line prompts on a terminal or a pipe. One readline interface serves every question, since
 * readline reads ahead and a second interface would lose lines already buffered from a pipe.
 * Hidden answers are not echoed on a terminal.
 */
export function createTerminalPrompt(input: Readable, output: Writable) {
  let rl: (Interface & { _writeToOutput?: (s: string) => void }) | undefined;
  let muted = false;
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  const open = () => {
    if (rl) return rl;
    rl = createInterface({ input, output, terminal: Boolean((input as { isTTY?: boolean }).isTTY) });
    const write = rl._writeToOutput?.bind(rl);
    rl._writeToOutput = (s: string) => {
      if (!muted) write?.(s);
    };
    rl.on("line", (line) => {
      const next = waiting.shift();
      if (next) next(line);
      else lines.push(line);
    });
    rl.on("close", () => {
      for (const next of waiting.splice(0)) next("");
    });
    return rl;
  };
  return {
    prompt(question: string, options: { hidden?: boolean } = {}): Promise<string> {
      open();
      output.write(question);
      muted = Boolean(options.hidden);
      return new Promise<string>((resolve) => {
        const done = (line: string) => {
          if (muted) output.write("\n");
          muted = false;
          resolve(line);
        };
        const buffered = lines.shift();
        if (buffered !== undefined) done(buffered);
        else waiting.push(done);
      });
    },
    close: () => rl?.close(),
  };
}
