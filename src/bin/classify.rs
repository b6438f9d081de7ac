//! `classify`: tags audio files and folders with every model bundle found, as a table, JSON lines or CSV.

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::io::{IsTerminal, Write};
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;

    use clap::{Parser, ValueEnum};
    use indicatif::{ProgressBar, ProgressStyle};
    use musicat::model::runner::Activation;
    use musicat::{AnalyzeError, Analyzer, AudioStream, Descriptors, Models, TrackReport};
    use serde::Serialize;

    /// File extensions picked up when walking a directory.
    const AUDIO_EXTENSIONS: &[&str] = &["mp3", "wav", "wave", "flac", "ogg", "oga", "m4a", "mp4", "aac"];

    /// Classify audio files by genre, mood, dance style or sound class, slice by slice.
    ///
    /// Each file is decoded, cut into segments (5 s by default), turned into mel
    /// spectrograms and run through every selected model; the track verdict is the mean of
    /// the segment probabilities. Directories are walked recursively for audio files.
    /// Exit code: 0 when every file was classified, 1 when any failed (all rows are still printed),
    /// 2 when the models cannot be loaded.
    #[derive(Parser)]
    #[command(name = "classify", version)]
    struct Args {
        /// Directory holding the model bundles (<task>.onnx + <task>.json).
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/models"))]
        models: PathBuf,
        /// Tasks to run, comma separated (default: every bundle in --models).
        #[arg(long, value_delimiter = ',')]
        task: Vec<String>,
        /// Output format: an aligned table, one JSON object per line per file, or CSV.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Also print the per-segment timeline (table and CSV; JSON always includes it).
        #[arg(long)]
        segments: bool,
        /// Skip the descriptors (tempo, beats, key, loudness, energy, danceability).
        #[arg(long)]
        no_descriptors: bool,
        /// Audio files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    }

    #[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
    enum Format {
        Table,
        Json,
        Csv,
    }

    /// The table's one-line summary of a track's descriptors.
    fn descriptor_summary(d: &Descriptors) -> String {
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "–".into());
        format!(
            "tempo {}, key {}, loudness {} (range {}, peak {}), energy {:.2}, danceability {:.2}",
            or_dash(d.tempo_bpm.map(|b| format!("{b:.1} BPM"))),
            or_dash(d.key.clone()),
            or_dash(d.loudness_lufs.map(|l| format!("{l:.1} LUFS"))),
            or_dash(d.loudness_range_lu.map(|l| format!("{l:.1} LU"))),
            or_dash(d.true_peak_dbtp.map(|p| format!("{p:.1} dBTP"))),
            d.energy,
            d.danceability,
        )
    }

    /// One output line of `--format json`.
    #[derive(Serialize)]
    struct JsonRow<'a> {
        path: String,
        duration_s: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tasks: Option<&'a std::collections::BTreeMap<String, musicat::TaskVerdict>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        segments: Option<&'a [musicat::SegmentPrediction]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        descriptors: Option<&'a Descriptors>,
        error: Option<String>,
    }

    pub fn main() -> ExitCode {
        let args = Args::parse();
        let models = match Models::load_dir(&args.models)
            .and_then(|m| if args.task.is_empty() { Ok(m) } else { m.select(&args.task) })
        {
            Ok(models) => models,
            Err(e) => {
                eprintln!("classify: {e}");
                return ExitCode::from(2);
            }
        };
        let files = collect_files(&args.paths);
        let tasks = models.task_names();
        let mut analyzer = Analyzer::new(&models);
        if !args.no_descriptors {
            analyzer = analyzer.with_descriptors();
        }
        let progress = progress_bar(files.len());
        let stdout = std::io::stdout();
        let multi_label: Vec<bool> =
            models.bundles().iter().map(|b| b.sidecar.activation == Activation::Sigmoid).collect();
        let mut out =
            Output::new(args.format, args.segments, !args.no_descriptors, &tasks, &multi_label, stdout.lock());
        if out.header().is_err() {
            return ExitCode::from(1);
        }
        let mut failed = 0usize;
        for path in &files {
            progress.set_message(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
            let result = classify_file(&mut analyzer, path);
            failed += usize::from(result.is_err());
            let written = out.row(path, &result);
            progress.inc(1);
            if written.is_err() {
                // stdout closed (e.g. piped into `head`): stop quietly.
                return ExitCode::from(if failed > 0 { 1 } else { 0 });
            }
        }
        progress.finish_and_clear();
        let _ = out.finish();
        if files.is_empty() {
            eprintln!("classify: no audio files found in the given paths");
            return ExitCode::from(1);
        }
        ExitCode::from(if failed > 0 { 1 } else { 0 })
    }

    fn classify_file(analyzer: &mut Analyzer<'_>, path: &Path) -> Result<TrackReport, AnalyzeError> {
        let stream = AudioStream::open_file(path)?;
        analyzer.analyze(stream)
    }

    /// Files given directly are kept whatever their name; directories contribute their audio files.
    fn collect_files(paths: &[PathBuf]) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for path in paths {
            if path.is_dir() {
                let mut found: Vec<PathBuf> = walkdir::WalkDir::new(path)
                    .follow_links(true)
                    .into_iter()
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().is_file() && is_audio_name(e.path()))
                    .map(|e| e.into_path())
                    .collect();
                found.sort();
                files.extend(found);
            } else {
                files.push(path.clone());
            }
        }
        files
    }

    fn is_audio_name(path: &Path) -> bool {
        path.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
    }

    fn progress_bar(files: usize) -> ProgressBar {
        if files < 2 || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(files as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} files, {eta} left  {wide_msg}") {
            bar.set_style(style);
        }
        bar
    }

    /// Writes rows in the chosen format.
    struct Output<'t, W: Write> {
        format: Format,
        segments: bool,
        descriptors: bool,
        tasks: &'t [String],
        /// Labels shown per task in the table: 3, or 5 for multi-label (sigmoid) tasks such as tags.
        shown: Vec<usize>,
        out: W,
    }

    /// One CSV record, quoted as needed.
    fn csv_line(record: &[String]) -> std::io::Result<Vec<u8>> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(record)?;
        writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
    }

    impl<'t, W: Write> Output<'t, W> {
        fn new(
            format: Format,
            segments: bool,
            descriptors: bool,
            tasks: &'t [String],
            multi_label: &[bool],
            out: W,
        ) -> Self {
            let shown = multi_label.iter().map(|&multi| if multi { 5 } else { 3 }).collect();
            Self { format, segments, descriptors, tasks, shown, out }
        }

        /// The descriptor cells of a row (none when descriptors are off).
        fn descriptor_cells(&self, report: Option<&TrackReport>) -> Vec<String> {
            if self.descriptors {
                Descriptors::csv_cells(report.and_then(|r| r.descriptors.as_ref()))
            } else {
                Vec::new()
            }
        }

        fn header(&mut self) -> std::io::Result<()> {
            if self.format != Format::Csv {
                return Ok(());
            }
            let mut head: Vec<String> = vec!["path".into()];
            head.extend(if self.segments {
                vec!["start_s".into(), "end_s".into(), "silent".into()]
            } else {
                vec!["duration_s".into()]
            });
            for task in self.tasks {
                head.push(format!("{task}_label"));
                head.push(format!("{task}_score"));
            }
            if self.descriptors {
                head.extend(Descriptors::CSV_COLUMNS.map(String::from));
            }
            head.push("error".into());
            self.out.write_all(&csv_line(&head)?)
        }

        fn row(&mut self, path: &Path, result: &Result<TrackReport, AnalyzeError>) -> std::io::Result<()> {
            let name = path.display().to_string();
            match self.format {
                Format::Json => {
                    let row = JsonRow {
                        path: name,
                        duration_s: result.as_ref().ok().map(|r| r.duration_s),
                        tasks: result.as_ref().ok().map(|r| &r.tasks),
                        segments: result.as_ref().ok().map(|r| r.segments.as_slice()),
                        descriptors: result.as_ref().ok().and_then(|r| r.descriptors.as_ref()),
                        error: result.as_ref().err().map(|e| e.to_string()),
                    };
                    let line = serde_json::to_string(&row).map_err(std::io::Error::other)?;
                    writeln!(self.out, "{line}")?;
                }
                Format::Csv => self.csv_rows(&name, result)?,
                Format::Table => self.table_rows(&name, result)?,
            }
            self.out.flush()
        }

        fn csv_rows(&mut self, name: &str, result: &Result<TrackReport, AnalyzeError>) -> std::io::Result<()> {
            let mut lines = Vec::new();
            let blank_tasks = || vec![String::new(); 2 * self.tasks.len()];
            match result {
                Err(e) => {
                    let mut record = vec![name.to_string()];
                    record.extend(vec![String::new(); if self.segments { 3 } else { 1 }]);
                    record.extend(blank_tasks());
                    record.extend(self.descriptor_cells(None));
                    record.push(e.to_string());
                    lines.extend(csv_line(&record)?);
                }
                Ok(report) if self.segments => {
                    for segment in &report.segments {
                        let mut record = vec![
                            name.to_string(),
                            format!("{:.2}", segment.start_s),
                            format!("{:.2}", segment.end_s),
                            segment.silent.to_string(),
                        ];
                        for task in self.tasks {
                            match segment.tasks.get(task) {
                                Some(l) => record.extend([l.label.clone(), format!("{:.4}", l.score)]),
                                None => record.extend([String::new(), String::new()]),
                            }
                        }
                        record.extend(self.descriptor_cells(Some(report)));
                        record.push(String::new());
                        lines.extend(csv_line(&record)?);
                    }
                }
                Ok(report) => {
                    let mut record = vec![name.to_string(), format!("{:.2}", report.duration_s)];
                    for task in self.tasks {
                        match report.tasks.get(task) {
                            Some(v) => record.extend([v.label.clone(), format!("{:.4}", v.score)]),
                            None => record.extend([String::new(), String::new()]),
                        }
                    }
                    record.extend(self.descriptor_cells(Some(report)));
                    record.push(String::new());
                    lines.extend(csv_line(&record)?);
                }
            }
            self.out.write_all(&lines)
        }

        fn table_rows(&mut self, name: &str, result: &Result<TrackReport, AnalyzeError>) -> std::io::Result<()> {
            match result {
                Err(e) => writeln!(self.out, "{name}\n    error: {e}"),
                Ok(report) => {
                    writeln!(self.out, "{name}  ({:.1} s)", report.duration_s)?;
                    for (task, &shown) in self.tasks.iter().zip(&self.shown) {
                        let Some(verdict) = report.tasks.get(task) else { continue };
                        let top: Vec<String> =
                            verdict.top(shown).iter().map(|(l, s)| format!("{l} {:.0}%", s * 100.0)).collect();
                        writeln!(self.out, "    {task:<8} {:<16} {}", verdict.label, top.join(", "))?;
                    }
                    if let Some(descriptors) = &report.descriptors {
                        writeln!(self.out, "    {}", descriptor_summary(descriptors))?;
                    }
                    if self.segments {
                        for segment in &report.segments {
                            let labels: Vec<String> = if segment.silent {
                                vec!["(silence)".into()]
                            } else {
                                segment
                                    .tasks
                                    .iter()
                                    .map(|(t, l)| format!("{t}={} {:.0}%", l.label, l.score * 100.0))
                                    .collect()
                            };
                            writeln!(
                                self.out,
                                "      {:>7.1}-{:<7.1} {}",
                                segment.start_s,
                                segment.end_s,
                                labels.join("  ")
                            )?;
                        }
                    }
                    Ok(())
                }
            }
        }

        fn finish(&mut self) -> std::io::Result<()> {
            self.out.flush()
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
