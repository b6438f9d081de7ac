// Loads the Musicat Web Worker (wasm-bindgen "no-modules" output). A failed start is rethrown
// outside the promise so the page gets an `error` event and can report it.
importScripts('./worker.js');
wasm_bindgen('./worker_bg.wasm').catch((error) => {
  setTimeout(() => {
    throw error;
  });
});
