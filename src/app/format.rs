//! Small presentation helpers: times, sizes, percentages, descriptor figures and label colours.

use crate::report::TaskVerdict;

/// `m:ss` (or `h:mm:ss`) of a time in seconds.
pub fn clock(seconds: f64) -> String {
    let total = if seconds.is_finite() { seconds.max(0.0).floor() as u64 } else { 0 };
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}

/// A score (0–1) as a whole percentage.
pub fn percent(score: f32) -> String {
    format!("{:.0}%", (score * 100.0).clamp(0.0, 100.0))
}

/// A byte count for people.
pub fn bytes(size: f64) -> String {
    if size >= 1e6 { format!("{:.1} MB", size / 1e6) } else { format!("{:.0} kB", (size / 1e3).max(1.0)) }
}

/// A tempo for people: `120.0 BPM`.
pub fn bpm(tempo: f32) -> String {
    format!("{tempo:.1} BPM")
}

/// A level or range with its unit and one decimal (`-14.2 LUFS`), or a dash when unknown.
pub fn level(value: Option<f32>, unit: &str) -> String {
    value.map_or_else(|| "–".to_string(), |v| format!("{v:.1} {unit}"))
}

/// A colour for `label` that stays the same for a task's label set: hues spread by the
/// golden angle over the label's position among the task's labels (sorted).
pub fn label_colour(verdict: Option<&TaskVerdict>, label: &str) -> String {
    let index = verdict
        .and_then(|v| v.scores.keys().position(|l| l == label))
        .unwrap_or_else(|| label.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize)) % 97);
    let hue = (index as f64 * 137.508 + 200.0) % 360.0;
    format!("hsl({hue:.0} 62% 52%)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(clock(0.0), "0:00");
        assert_eq!(clock(65.9), "1:05");
        assert_eq!(clock(3725.0), "1:02:05");
        assert_eq!(clock(f64::NAN), "0:00");
        assert_eq!(percent(0.456), "46%");
        assert_eq!(bytes(2_500_000.0), "2.5 MB");
        assert_eq!(bytes(20.0), "1 kB");
        assert_eq!(bpm(119.96), "120.0 BPM");
        assert_eq!((level(Some(-14.25), "LUFS"), level(None, "LU")), ("-14.2 LUFS".to_string(), "–".to_string()));
    }

    #[test]
    fn colours_differ_between_labels_of_a_task() {
        let verdict = TaskVerdict {
            label: "a".into(),
            score: 0.5,
            scores: [("a".to_string(), 0.5), ("b".to_string(), 0.3), ("c".to_string(), 0.2)].into_iter().collect(),
        };
        let colours: Vec<String> = ["a", "b", "c"].iter().map(|l| label_colour(Some(&verdict), l)).collect();
        assert_eq!(colours[0], "hsl(200 62% 52%)");
        assert!(colours[0] != colours[1] && colours[1] != colours[2] && colours[0] != colours[2]);
        assert_eq!(label_colour(None, "x"), label_colour(None, "x"));
    }
}
