// Starts the Musicat app. A file of its own instead of trunk's inline script, so the page's
// Content-Security-Policy can forbid inline scripts. Trunk.toml's pattern_script loads it.
import init from './musicat.js';

// The first analyser (Web Worker) starts now, so that it fetches and compiles its wasm while the
// page's own wasm loads and draws the page; the page claims it (src/app/worker_module.rs). What it
// says before the page listens is kept and handed over, in order, once the page does.
const first = new Worker('./worker_loader.js');
const early = [];
// Until then the page's own handlers (set after these listeners) do not see them.
const keep = (event) => {
  event.stopImmediatePropagation();
  event.preventDefault();
  early.push(event);
};
first.addEventListener('message', keep);
first.addEventListener('error', keep);
let unclaimed = first;
globalThis.musicatEarlyWorker = {
  // The worker started here, the first time; null after.
  claim() {
    const worker = unclaimed;
    unclaimed = null;
    return worker;
  },
  // Hands `worker` (if it is the one started here) what it said before the page's handlers were
  // set, on the next task: the page calls this while it is still setting the worker up.
  replay(worker) {
    if (worker !== first) return;
    setTimeout(() => {
      first.removeEventListener('message', keep);
      first.removeEventListener('error', keep);
      for (const e of early.splice(0)) {
        if (e.type === 'message') {
          first.dispatchEvent(new MessageEvent('message', { data: e.data }));
        } else {
          // The page replaces a worker that fails: what it said after is of no use.
          first.dispatchEvent(new ErrorEvent('error', { message: e.message, filename: e.filename, lineno: e.lineno, colno: e.colno }));
          break;
        }
      }
    });
  },
};

await init({ module_or_path: './musicat_bg.wasm' });
