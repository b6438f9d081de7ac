//! Classification metrics: confusion matrix, accuracy, per-class F1 and macro-F1.

use serde::{Deserialize, Serialize};

/// Counts of (true label, predicted label) pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// Label names, indexing rows (truth) and columns (prediction).
    pub labels: Vec<String>,
    /// `counts[truth][predicted]`.
    pub counts: Vec<Vec<usize>>,
}

impl ConfusionMatrix {
    /// An empty matrix over `labels`.
    pub fn new(labels: &[String]) -> Self {
        Self { labels: labels.to_vec(), counts: vec![vec![0; labels.len()]; labels.len()] }
    }

    /// Records one prediction.
    pub fn add(&mut self, truth: usize, predicted: usize) {
        self.counts[truth][predicted] += 1;
    }

    /// Number of recorded predictions.
    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    /// Examples of each true label.
    pub fn support(&self) -> Vec<usize> {
        self.counts.iter().map(|row| row.iter().sum()).collect()
    }

    /// Fraction predicted correctly (0 when empty).
    pub fn accuracy(&self) -> f64 {
        let correct: usize = (0..self.labels.len()).map(|i| self.counts[i][i]).sum();
        ratio(correct, self.total())
    }

    /// F1 of each label (0 for a label never true nor predicted).
    pub fn f1(&self) -> Vec<f64> {
        (0..self.labels.len())
            .map(|i| {
                let tp = self.counts[i][i];
                let predicted: usize = self.counts.iter().map(|row| row[i]).sum();
                let actual: usize = self.counts[i].iter().sum();
                let (p, r) = (ratio(tp, predicted), ratio(tp, actual));
                if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
            })
            .collect()
    }

    /// Mean F1 over the labels that occur in the truth.
    pub fn macro_f1(&self) -> f64 {
        let support = self.support();
        let present: Vec<f64> = self.f1().into_iter().zip(&support).filter(|(_, s)| **s > 0).map(|(f, _)| f).collect();
        if present.is_empty() { 0.0 } else { present.iter().sum::<f64>() / present.len() as f64 }
    }

    /// A Markdown table: one row per true label, one column per prediction.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("| truth \\ predicted | {} |\n", self.labels.join(" | "));
        out.push_str(&format!("|---|{}\n", "---:|".repeat(self.labels.len())));
        for (label, row) in self.labels.iter().zip(&self.counts) {
            let cells: Vec<String> = row.iter().map(usize::to_string).collect();
            out.push_str(&format!("| {label} | {} |\n", cells.join(" | ")));
        }
        out
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_and_macro_f1_by_hand() {
        let labels: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let mut m = ConfusionMatrix::new(&labels);
        for (t, p) in [(0, 0), (0, 0), (0, 1), (1, 1), (1, 1), (2, 0)] {
            m.add(t, p);
        }
        assert!((m.accuracy() - 4.0 / 6.0).abs() < 1e-12);
        // a: p=2/3 r=2/3 → 2/3; b: p=2/3 r=1 → 0.8; c: 0.
        let f1 = m.f1();
        assert!((f1[0] - 2.0 / 3.0).abs() < 1e-12 && (f1[1] - 0.8).abs() < 1e-12 && f1[2] == 0.0);
        assert!((m.macro_f1() - (2.0 / 3.0 + 0.8) / 3.0).abs() < 1e-12);
        assert_eq!(m.support(), vec![3, 2, 1]);
        assert!(m.to_markdown().contains("| a | 2 | 1 | 0 |"));
    }
}
