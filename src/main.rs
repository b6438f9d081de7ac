//! Browser entry point built by trunk. The page itself lives in `index.html`; on native
//! targets this binary only points to the `classify` CLI.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("musicat: this is the browser app's entry point (build it with `trunk`);");
    eprintln!("on the command line use `cargo run --release --bin classify -- --help`.");
}
