/**
 * Turns a child's byte stream into lines. Pipes deliver arbitrary chunks, so a line may be
 * split across reads and a read may hold many lines; a peer that never sends a newline must
 * not grow our memory without bound, so an over-long line is dropped and reported.
 */
export interface LineReaderOptions {
  onLine(line: string): void;
  /** Called with the number of bytes discarded when a line exceeds maxLineLength. */
  onOverflow?(discarded: number): void;
  maxLineLength?: number;
}

export function createLineSplitter(options: LineReaderOptions) {
  const max = options.maxLineLength ?? 1024 * 1024;
  let pending = "";
  let discarding = false;
  const emit = (line: string) => {
    const trimmed = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (trimmed.trim() !== "") options.onLine(trimmed);
  };
  return {
    push(text: string) {
      let start = 0;
      for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
        const piece = text.slice(start, nl);
        if (discarding) discarding = false;
        else emit(pending + piece);
        pending = "";
        start = nl + 1;
      }
      if (discarding) return;
      pending += text.slice(start);
      if (pending.length > max) {
        options.onOverflow?.(pending.length);
        pending = "";
        discarding = true;
      }
    },
    /** End of stream: a last line without a newline still counts. */
    end() {
      if (!discarding && pending) emit(pending);
      pending = "";
      discarding = false;
    },
  };
}

/** Reads a stream to its end, calling onLine per line. Resolves when the stream closes. */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  options: LineReaderOptions,
): Promise<void> {
  const splitter = createLineSplitter(options);
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      splitter.push(decoder.decode(value, { stream: true }));
    }
    splitter.push(decoder.decode());
    splitter.end();
  } catch {
    // The child was killed mid-read; what arrived before is all there is.
  } finally {
    reader.releaseLock();
  }
}
