//! The `classify` binary on a folder of good and broken files: one JSON line per file, exit code 1.

mod common;

use std::process::Command;

use common::fixture;

fn classify(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_classify"))
        .arg("--models")
        .arg(fixture("models/fixture"))
        .args(args)
        .output()
        .expect("run classify")
}

/// A temporary folder holding a mix of good and broken files.
fn mixed_folder() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("musicat-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for (from, to) in [
        ("fixtures/audio/music_stereo_44100.mp3", "good.mp3"),
        ("fixtures/audio/music_12s_22050_mono.flac", "sub/good.flac"),
        ("fixtures/bad/image.mp3", "cover.mp3"),
        ("fixtures/bad/truncated.mp3", "sub/partial.mp3"),
        ("fixtures/bad/empty.mp3", "empty.wav"),
        ("fixtures/README.md", "notes.txt"),
    ] {
        if let Ok(bytes) = std::fs::read(fixture(from)) {
            std::fs::write(dir.join(to), bytes).unwrap();
        }
    }
    dir
}

#[test]
fn json_lines_report_every_file_and_errors_set_the_exit_code() {
    let dir = mixed_folder();
    let out = classify(&["--format", "json", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect();
    assert_eq!(lines.len(), 5, "the .txt file is skipped, every audio name gets a line");
    let by_name = |suffix: &str| lines.iter().find(|l| l["path"].as_str().unwrap().ends_with(suffix)).unwrap();
    for good in ["good.mp3", "good.flac"] {
        let line = by_name(good);
        assert!(line["error"].is_null());
        assert!(line["duration_s"].as_f64().unwrap() > 5.0);
        assert!(line["tasks"]["genre"]["label"].is_string());
        assert!(line["tasks"]["mood"]["scores"].as_object().unwrap().len() == 4);
        assert!(!line["segments"].as_array().unwrap().is_empty());
        // The music fixture: a chord progression struck on every half second, C–F–G–C.
        let descriptors = &line["descriptors"];
        let bpm = descriptors["tempo_bpm"].as_f64().unwrap();
        assert!((bpm - 120.0).abs() < 2.4, "{bpm} BPM");
        assert_eq!(descriptors["key"], "C major");
        assert!(descriptors["loudness_lufs"].as_f64().unwrap() < 0.0);
        assert!(descriptors["beats_s"].as_array().unwrap().len() >= 8);
        for score in ["energy", "danceability"] {
            assert!((0.0..=1.0).contains(&descriptors[score].as_f64().unwrap()));
        }
    }
    assert_eq!(by_name("cover.mp3")["error"], "this file is a PNG image, not audio");
    assert!(by_name("partial.mp3")["error"].as_str().unwrap().contains("truncated"));
    assert_eq!(by_name("empty.wav")["error"], "the file is empty (0 bytes)");
    assert!(by_name("empty.wav").get("tasks").is_none());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn all_good_files_exit_zero_and_csv_has_a_header() {
    let file = fixture("fixtures/audio/music_stereo_44100.ogg");
    let out = classify(&["--format", "csv", "--task", "genre", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let descriptors = "tempo_bpm,key,loudness_lufs,loudness_range_lu,peak_dbfs,true_peak_dbtp,energy,danceability";
    assert_eq!(lines.next(), Some(format!("path,duration_s,genre_label,genre_score,{descriptors},error").as_str()));
    let row = lines.next().unwrap();
    assert!(row.contains(",gamma,") && row.contains(",C major,"), "{row}");
    let plain = classify(&["--format", "csv", "--task", "genre", "--no-descriptors", file.to_str().unwrap()]);
    let plain = String::from_utf8(plain.stdout).unwrap();
    assert_eq!(plain.lines().next(), Some("path,duration_s,genre_label,genre_score,error"));
}

#[test]
fn table_with_segments_and_help() {
    let file = fixture("fixtures/audio/music_12s_22050_mono.flac");
    let out = classify(&["--segments", file.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("(12.0 s)") && text.contains("0.0-5.0") && text.contains("genre="), "{text}");
    assert!(text.contains("BPM, key C major, loudness") && text.contains("danceability"), "{text}");
    let help = Command::new(env!("CARGO_BIN_EXE_classify")).arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    for flag in ["--models", "--task", "--format", "--segments", "--no-descriptors"] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn models_that_cannot_load_exit_2_with_the_reason() {
    let out = Command::new(env!("CARGO_BIN_EXE_classify"))
        .arg("--models")
        .arg(fixture("models/mismatch"))
        .arg(fixture("fixtures/mel_input.wav"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("disagree"));
}

#[test]
fn multi_label_tags_show_their_top_five_in_the_table() {
    let out = Command::new(env!("CARGO_BIN_EXE_classify"))
        .arg("--models")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))
        .args(["--task", "tags"])
        .arg(fixture("fixtures/audio/music_12s_22050_mono.flac"))
        .output()
        .expect("run classify");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let line = stdout.lines().find(|l| l.trim_start().starts_with("tags")).expect("a tags line");
    assert_eq!(line.matches('%').count(), 5, "{line}");
}
