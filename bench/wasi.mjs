// Runs a wasm32-wasip1 build of one of Musicat's examples under node's WASI (node and Chromium
// share V8, so its wasm runs as the app's worker does), with the current directory readable:
//   RUSTFLAGS="-C target-feature=+simd128" cargo build --profile wasm-release \
//     --target wasm32-wasip1 --example backbone_profile
//   node bench/wasi.mjs <target>/wasm32-wasip1/wasm-release/examples/backbone_profile.wasm [ARGS…]
// (relative paths only: WASI sees the current directory).
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [wasm, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [wasm, ...args], env: process.env, preopens: { '.': process.cwd() } });
const module = await WebAssembly.compile(await readFile(wasm));
wasi.start(await WebAssembly.instantiate(module, wasi.getImportObject()));
