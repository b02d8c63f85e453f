import type { Interface } from "node:readline";
import { type Readable, Writable } from "node:stream";

/**
 * Line prompts on a terminal or a pipe. One readline interface serves every question, since
 * readline reads ahead and a second interface would lose lines already buffered from a pipe.
 * Hidden answers are not echoed on a terminal: readline echoes what is typed to the stream it
 * is given, and that stream passes nothing on while a hidden answer is being typed.
 * node:readline is imported with the first question: a bundle would otherwise load it before
 * any command runs, `serve` included (issue 17).
 */
export type TerminalPrompt = ReturnType<typeof createTerminalPrompt>;

export function createTerminalPrompt(input: Readable, output: Writable) {
  let rl: Promise<Interface> | undefined;
  let muted = false;
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  const echo = new Writable({
    write(chunk, encoding, done) {
      if (!muted) output.write(chunk, encoding);
      done();
    },
  });
  // readline lays long lines out by the terminal's width.
  Object.defineProperty(echo, "columns", { get: () => (output as { columns?: number }).columns });
  const open = async () => {
    const { createInterface } = await import("node:readline");
    const made = createInterface({
      input,
      output: echo,
      terminal: Boolean((input as { isTTY?: boolean }).isTTY),
      prompt: "",
    });
    made.on("line", (line) => {
      const next = waiting.shift();
      if (next) next(line);
      else lines.push(line);
    });
    made.on("close", () => {
      for (const next of waiting.splice(0)) next("");
    });
    return made;
  };
  return {
    async prompt(question: string, options: { hidden?: boolean } = {}): Promise<string> {
      rl ??= open();
      // readline redraws its prompt on some keys (backspace, a resize): make that the question.
      (await rl).setPrompt(question);
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
    close: () => void rl?.then((made) => made.close()),
  };
}
