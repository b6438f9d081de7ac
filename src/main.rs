//! The browser app's entry point (trunk builds it for wasm32; the Web Worker is `src/bin/worker/`).
//! On native targets this binary only points to the `classify` CLI.

mod app;
// The page shares these serde types with the worker by source rather than by linking the
// library: tract registers its operators at start-up, which keeps the whole inference engine
// alive in any binary that links it, and the page has no use for it.
#[allow(dead_code)]
mod report;
#[allow(dead_code)]
mod share;
#[allow(dead_code)]
mod worker_api;

#[cfg(target_arch = "wasm32")]
fn main() {
    app::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("musicat: this is the browser app's entry point (build it with `trunk`);");
    eprintln!("on the command line use `cargo run --release --bin classify -- --help`.");
}
