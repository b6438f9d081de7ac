// Starts the Musicat app. A file of its own instead of trunk's inline script, so the page's
// Content-Security-Policy can forbid inline scripts. Trunk.toml's pattern_script loads it.
import init from './musicat.js';

await init({ module_or_path: './musicat_bg.wasm' });
