//! The hostile-input corpus (tests/bad-inputs): every file gives its expected outcome, a typed error with a
//! readable message or a valid result, within 5 s and without a panic, alone and as one CLI batch.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock, mpsc};
use std::time::{Duration, Instant};

use common::fixture;
use musicat::{AnalyzeError, Analyzer, AudioStream, Models};

/// The longest any single file may take, end to end.
const DEADLINE: Duration = Duration::from_secs(5);

/// Expected outcomes per file name, read from the generator's `expected.json`.
type Expected = BTreeMap<String, Vec<String>>;

/// Builds the corpus once per test binary (with the committed generator) and returns its folder.
fn corpus() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bad-inputs");
        let _ = std::fs::remove_dir_all(&dir);
        let status = Command::new("python3")
            .arg(fixture("bad-inputs/make_corpus.py"))
            .arg(&dir)
            .status()
            .expect("python3 runs the corpus generator");
        assert!(status.success(), "make_corpus.py failed");
        dir
    })
}

fn expected() -> Expected {
    let text = std::fs::read_to_string(corpus().join("expected.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json.as_object()
        .unwrap()
        .iter()
        .map(|(name, entry)| {
            let outcomes = entry["outcomes"].as_array().unwrap().iter().map(|o| o.as_str().unwrap().to_string());
            (name.clone(), outcomes.collect())
        })
        .collect()
}

/// The name an outcome has in `expected.json`: "ok", an `AudioError` variant, "Silent" or "Model".
fn outcome_name(result: &Result<musicat::TrackReport, AnalyzeError>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(AnalyzeError::Audio(e)) => {
            let debug = format!("{e:?}");
            debug.split(['(', ' ', '{']).next().unwrap_or_default().to_string()
        }
        Err(AnalyzeError::Silent(_)) => "Silent".into(),
        Err(AnalyzeError::Model(_)) => "Model".into(),
    }
}

/// A message a person can read: a sentence, no Rust debug output, no panic text.
fn is_readable(message: &str) -> bool {
    message.len() >= 20
        && (message.starts_with("the ") || message.starts_with("this file"))
        && !["panicked", "unwrap", "Some(", "Error {", "\\u"].iter().any(|bad| message.contains(bad))
}

#[test]
fn the_corpus_has_at_least_40_files() {
    assert!(expected().len() >= 40, "{} files", expected().len());
}

#[test]
fn every_file_gives_its_expected_outcome_in_time() {
    let models = Arc::new(Models::load_dir(&fixture("models/fixture")).unwrap());
    let mut failures = Vec::new();
    for (name, outcomes) in expected() {
        let path = corpus().join(&name);
        let (tx, rx) = mpsc::channel();
        let models = Arc::clone(&models);
        let started = Instant::now();
        std::thread::spawn(move || {
            // A panic drops `tx` unsent, which the receiver sees as a disconnection.
            let result = AudioStream::open_file(&path)
                .map_err(AnalyzeError::from)
                .and_then(|stream| Analyzer::new(&models).analyze(stream));
            let _ = tx.send((outcome_name(&result), result.err().map(|e| e.to_string())));
        });
        match rx.recv_timeout(DEADLINE) {
            Err(mpsc::RecvTimeoutError::Timeout) => failures.push(format!("{name}: no answer within {DEADLINE:?}")),
            Err(mpsc::RecvTimeoutError::Disconnected) => failures.push(format!("{name}: panicked")),
            Ok((got, message)) => {
                if !outcomes.contains(&got) {
                    failures.push(format!("{name}: got {got} ({message:?}), expected one of {outcomes:?}"));
                }
                if let Some(message) = message.as_ref().filter(|m| !is_readable(m)) {
                    failures.push(format!("{name}: unreadable message {message:?}"));
                }
                eprintln!(
                    "{name:28} {got:18} {:>6} ms  {}",
                    started.elapsed().as_millis(),
                    message.unwrap_or_default()
                );
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Peak resident memory of this process's finished children, in MB.
fn children_peak_rss_mb() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the pointer it is given.
    let usage = unsafe {
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()), 0);
        usage.assume_init()
    };
    usage.ru_maxrss as f64 / 1024.0
}

#[test]
fn the_cli_reports_every_corpus_file_on_its_row_in_bounded_memory() {
    let expected = expected();
    let out = Command::new(env!("CARGO_BIN_EXE_classify"))
        .arg("--models")
        .arg(fixture("models/fixture"))
        .args(["--format", "json"])
        .arg(corpus())
        .output()
        .expect("run classify");
    assert_eq!(out.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), expected.len(), "one row per file (expected.json itself is skipped)");
    for row in &rows {
        let name = Path::new(row["path"].as_str().unwrap()).file_name().unwrap().to_str().unwrap();
        let outcomes = &expected[name];
        let ok_allowed = outcomes.iter().any(|o| o == "ok");
        let error_allowed = outcomes.iter().any(|o| o != "ok");
        match row["error"].as_str() {
            Some(message) => assert!(error_allowed && is_readable(message), "{name}: {message}"),
            None => assert!(ok_allowed && row["tasks"]["genre"]["label"].is_string(), "{name}: {row}"),
        }
    }
    let peak = children_peak_rss_mb();
    assert!(peak < 300.0, "classify peaked at {peak:.0} MB on the corpus");
}

#[test]
fn a_500_file_batch_with_10_percent_broken_files_loses_nothing() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("batch-500");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read(fixture("fixtures/audio/short_1.5s_22050_mono.wav")).unwrap();
    let broken: Vec<(String, Vec<u8>)> = expected()
        .into_iter()
        .filter(|(_, outcomes)| !outcomes.iter().any(|o| o == "ok"))
        .map(|(name, _)| (name.clone(), std::fs::read(corpus().join(&name)).unwrap()))
        .collect();
    for i in 0..500 {
        let (name, bytes) = if i % 10 == 9 {
            let (name, bytes) = &broken[(i / 10) % broken.len()];
            (format!("{i:03}-{name}"), bytes)
        } else {
            (format!("{i:03}-good.wav"), &good)
        };
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_classify"))
        .arg("--models")
        .arg(fixture("models/fixture"))
        .args(["--format", "csv"])
        .arg(&dir)
        .output()
        .expect("run classify");
    assert_eq!(out.status.code(), Some(1));
    let mut reader = csv::Reader::from_reader(&out.stdout[..]);
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (path, error, genre) = (column("path"), column("error"), column("genre_label"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 500, "one row per file");
    let failed: Vec<&csv::StringRecord> = rows.iter().filter(|r| !r[error].is_empty()).collect();
    assert_eq!(failed.len(), 50, "exactly the broken files fail");
    assert!(failed.iter().all(|r| !r[path].ends_with("good.wav") && r[genre].is_empty()));
    assert!(rows.iter().filter(|r| r[error].is_empty()).all(|r| !r[genre].is_empty()));
}
