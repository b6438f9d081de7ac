//! The set of models in use: every bundle of a directory, or a chosen subset of tasks.

use std::path::Path;

use super::backbone::BackboneCache;
use super::bundle::ModelBundle;
use super::error::ModelError;

/// Loaded bundles, in a stable order (by task name).
pub struct Models {
    bundles: Vec<ModelBundle>,
}

impl Models {
    /// Wraps already loaded bundles.
    pub fn new(mut bundles: Vec<ModelBundle>) -> Self {
        bundles.sort_by(|a, b| a.task().cmp(b.task()));
        Self { bundles }
    }

    /// Loads every `<task>.onnx` with a `<task>.json` beside it in `dir`.
    pub fn load_dir(dir: &Path) -> Result<Self, ModelError> {
        let entries = std::fs::read_dir(dir).map_err(|e| ModelError::Read {
            task: "*".into(),
            file: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "onnx") && p.with_extension("json").is_file())
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(ModelError::NoModels(dir.display().to_string()));
        }
        let mut backbones = BackboneCache::default();
        let bundles =
            paths.iter().map(|p| ModelBundle::from_files_sharing(p, &mut backbones)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(bundles))
    }

    /// Keeps only the named tasks, failing on a name that has no bundle.
    pub fn select(self, tasks: &[String]) -> Result<Self, ModelError> {
        if let Some(missing) = tasks.iter().find(|t| !self.bundles.iter().any(|b| b.task() == t.as_str())) {
            return Err(ModelError::UnknownTask { task: missing.clone(), available: self.task_names().join(", ") });
        }
        let bundles = self.bundles.into_iter().filter(|b| tasks.iter().any(|t| t == b.task())).collect();
        Ok(Self::new(bundles))
    }

    /// The task names, in order.
    pub fn task_names(&self) -> Vec<String> {
        self.bundles.iter().map(|b| b.task().to_string()).collect()
    }

    /// The bundles, in order.
    pub fn bundles(&self) -> &[ModelBundle] {
        &self.bundles
    }
}
