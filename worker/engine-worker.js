// The import wizard's file reader, in a Web Worker. Above this line: wasm-bindgen's
// glue for the reader module, and WASM_URL, both added by scripts/build-worker.
// Messages in:  { id, bytes: File | ArrayBuffer, fileName: string | null, headerKeys: string[] }
// Messages out: { id, wire: Uint8Array (transferred), fileMs, parseMs }, or { id, error, fatal }.

const ready = wasm_bindgen({ module_or_path: new URL(WASM_URL, self.location.href) });

self.onmessage = async (event) => {
  const { id, bytes, fileName, headerKeys } = event.data;
  try {
    // A chosen file is read here, off the page's thread.
    const started = performance.now();
    const buffer = bytes instanceof Blob ? await bytes.arrayBuffer() : bytes;
    const fileMs = performance.now() - started;
    await ready;
    const parsing = performance.now();
    const wire = wasm_bindgen.read_workbook(new Uint8Array(buffer), fileName ?? undefined, headerKeys);
    const parseMs = performance.now() - parsing;
    self.postMessage({ id, wire, fileMs, parseMs }, [wire.buffer]);
  } catch (error) {
    // The engine refuses a file with a sentence (a string). Anything else is a fault in
    // the reader (or a file the browser could not read), after which its memory cannot
    // be trusted: the page starts a new one.
    const fatal = typeof error !== "string";
    const message = fatal
      ? "The file could not be read because the file reader failed. Try again, or save the file as CSV or XLSX."
      : error;
    self.postMessage({ id, error: message, fatal });
    if (fatal) {
      self.close();
    }
  }
};
