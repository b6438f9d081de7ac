// Loads the Musicat Web Worker (wasm-bindgen "no-modules" output). The first worker compiles the
// wasm and hands the compiled module to the page; the page starts the later ones (named `shared`)
// from it (src/app/worker_module.rs), so they do not compile it again. A failed start is rethrown
// outside the promise so the page gets an `error` event and can report it.
importScripts('./worker.js');
const WASM = './worker_bg.wasm';

function compile() {
  const fetched = fetch(WASM);
  return WebAssembly.compileStreaming(fetched).catch(async () => WebAssembly.compile(await (await fetch(WASM)).arrayBuffer()));
}

const compiled = self.name === 'shared'
  ? new Promise((resolve) => {
    self.addEventListener('message', function first(event) {
      if (event.data && event.data.kind === 'module') {
        self.removeEventListener('message', first);
        resolve(event.data.module);
      }
    });
  })
  : compile().then((module) => {
    self.postMessage({ kind: 'module', module });
    return module;
  });

compiled.then((module) => wasm_bindgen({ module_or_path: module })).catch((error) => {
  setTimeout(() => {
    throw error;
  });
});
