// The import wizard's file reader, in a Web Worker. Above this line: wasm-bindgen's
// glue for the reader module, and WASM_URL, both added by scripts/build-worker.
// Messages in:  { id, bytes: File | ArrayBuffer, fileName: string | null, headerKeys: string[] }
// Messages out: { warm: true } once loaded and warmed up; then per file
// { id, wire: Uint8Array (transferred), fileMs, parseMs }, or { id, error, fatal }.

// Once loaded, the reader reads a made-up roster (see warm_up in worker/src/lib.rs), so
// the admin's first file does not pay for compiling and optimizing it; a file that
// arrives meanwhile waits for that, which is still sooner than compiling on its time.
const ready = wasm_bindgen({ module_or_path: new URL(WASM_URL, self.location.href) }).then(() => {
  try {
    wasm_bindgen.warm_up();
  } catch {
    // A reader that fails here fails the file's read too, which says so.
  }
  self.postMessage({ warm: true });
});

// A fatal answer closes this worker; the page starts a new one for the next file.
const NOT_LOADED = "The file reader could not be loaded. Check the connection, then reload the page.";
const NOT_READABLE = "The browser could not read the file (was it moved or changed since you chose it?). Choose it again.";
const FAILED = "The file could not be read because the file reader failed. Try again, or save the file as CSV or XLSX.";

self.onmessage = async (event) => {
  const { id, bytes, fileName, headerKeys } = event.data;
  const answer = (error, fatal) => {
    self.postMessage({ id, error, fatal });
    if (fatal) {
      self.close();
    }
  };
  try {
    await ready;
  } catch {
    return answer(NOT_LOADED, true);
  }
  // Refused before its bytes are read into memory: a file far over the limit would
  // otherwise grow the worker to its size first.
  const refusal = bytes instanceof Blob ? wasm_bindgen.refuse_size(bytes.size) : undefined;
  if (refusal) {
    return answer(refusal, false);
  }
  let buffer;
  const started = performance.now();
  try {
    // A chosen file is read here, off the page's thread.
    buffer = bytes instanceof Blob ? await bytes.arrayBuffer() : bytes;
  } catch {
    return answer(NOT_READABLE, false);
  }
  const fileMs = performance.now() - started;
  try {
    const parsing = performance.now();
    const wire = wasm_bindgen.read_workbook(new Uint8Array(buffer), fileName ?? undefined, headerKeys);
    const parseMs = performance.now() - parsing;
    self.postMessage({ id, wire, fileMs, parseMs }, [wire.buffer]);
  } catch (error) {
    // The engine refuses a file with a sentence (a string). Anything else is a fault in
    // the reader, after which its memory cannot be trusted.
    if (typeof error === "string") {
      answer(error, false);
    } else {
      answer(FAILED, true);
    }
  }
};
