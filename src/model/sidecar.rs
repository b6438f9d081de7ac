//! The JSON sidecar of a model bundle: labels, feature parameters, provenance and metrics.

use serde::{Deserialize, Serialize};

use super::runner::Activation;
use crate::features::FeatureParams;

/// A pretrained network a model's head runs on: the head's input is some of its outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackboneRef {
    /// Its ONNX file, relative to the sidecar's folder (e.g. `backbone/musicnn_msd.onnx`).
    pub file: String,
    /// The backbone outputs concatenated, in this order, as the head's input.
    pub outputs: Vec<String>,
}

impl BackboneRef {
    fn validate(&self) -> Result<(), String> {
        let path = std::path::Path::new(&self.file);
        let plain = path.components().all(|c| matches!(c, std::path::Component::Normal(_)));
        if self.file.is_empty() || !plain || !self.file.ends_with(".onnx") {
            return Err(format!(
                "backbone file `{}` must be a relative path to an .onnx file, without `..`",
                self.file
            ));
        }
        if self.outputs.is_empty() {
            return Err("backbone `outputs` is empty".into());
        }
        Ok(())
    }
}

/// Newest sidecar format this build reads.
pub const FORMAT_VERSION: u32 = 1;
/// Most labels a model may have.
pub const MAX_LABELS: usize = 1000;

/// Contents of `<task>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sidecar {
    /// Sidecar format version.
    #[serde(default = "format_version")]
    pub format_version: u32,
    /// Task name, e.g. `genre`.
    pub task: String,
    /// Output labels, in the order of the model's outputs.
    pub labels: Vec<String>,
    /// How audio becomes the model's input.
    #[serde(flatten)]
    pub features: FeatureParams,
    /// Shape of one input item: `[1, n_mels, frames]` (or `[frames, n_mels]`), the spectrogram
    /// fed to the model, or to its backbone when it has one.
    pub input_shape: Vec<usize>,
    /// The pretrained network this model is a head on, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backbone: Option<BackboneRef>,
    /// How outputs become scores: `softmax` (one label) or `sigmoid` (independent tags).
    #[serde(default)]
    pub activation: Activation,
    /// What the model was trained on.
    #[serde(default)]
    pub trained_on: serde_json::Value,
    /// Validation metrics measured at training time.
    #[serde(default)]
    pub metrics: serde_json::Value,
    /// Extra information per label (e.g. the mood quadrant and its valence/arousal signs).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub label_details: serde_json::Value,
}

fn format_version() -> u32 {
    FORMAT_VERSION
}

impl Sidecar {
    /// Parses and checks a sidecar on its own (before the ONNX file is looked at).
    pub fn from_json(json: &str) -> Result<Self, String> {
        let sidecar: Sidecar = serde_json::from_str(json).map_err(|e| e.to_string())?;
        sidecar.validate()?;
        Ok(sidecar)
    }

    /// Checks internal consistency: versions, labels, parameter ranges, input shape.
    pub fn validate(&self) -> Result<(), String> {
        if self.format_version > FORMAT_VERSION {
            return Err(format!(
                "format_version {} is newer than this Musicat reads ({FORMAT_VERSION})",
                self.format_version
            ));
        }
        if self.task.trim().is_empty() {
            return Err("`task` is empty".into());
        }
        if self.labels.is_empty() || self.labels.len() > MAX_LABELS {
            return Err(format!("it has {} labels (1 to {MAX_LABELS} allowed)", self.labels.len()));
        }
        let mut sorted: Vec<&String> = self.labels.iter().collect();
        sorted.sort();
        if let Some(pair) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("label `{}` appears twice", pair[0]));
        }
        self.features.validate().map_err(|e| e.to_string())?;
        if let Some(backbone) = &self.backbone {
            backbone.validate()?;
        }
        let expected = self.features.input_shape();
        if self.input_shape != expected {
            return Err(format!(
                "input_shape {:?} does not fit the feature parameters, which give {:?} (1 × n_mels × frames, or frames × n_mels)",
                self.input_shape, expected
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(labels: &str, shape: &str) -> String {
        format!(
            r#"{{"task":"genre","labels":{labels},"sample_rate":22050,"n_fft":2048,"hop_length":512,"n_mels":128,"fmin":0,"fmax":11025,"input_shape":{shape}}}"#
        )
    }

    #[test]
    fn defaults_fill_in_librosa_settings() {
        let s = Sidecar::from_json(&json(r#"["a","b"]"#, "[1,128,216]")).unwrap();
        assert_eq!(s.features, FeatureParams::default());
    }

    #[test]
    fn inconsistent_sidecars_are_rejected_with_a_reason() {
        assert!(Sidecar::from_json(&json(r#"["a","a"]"#, "[1,128,216]")).unwrap_err().contains("twice"));
        assert!(Sidecar::from_json(&json("[]", "[1,128,216]")).unwrap_err().contains("0 labels"));
        assert!(Sidecar::from_json(&json(r#"["a"]"#, "[1,64,216]")).unwrap_err().contains("input_shape"));
        assert!(Sidecar::from_json("{").is_err());
    }
}
