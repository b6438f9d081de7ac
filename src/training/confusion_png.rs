//! The confusion-matrix figure of `models/REPORT.md`: a PNG heat map (cells shaded by the share
//! of each true label's tracks, counts written in), drawn with plotters and an embedded font.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, FontTransform, register_font};

use crate::evaluation::ConfusionMatrix;

/// The font family name the figures use (DejaVu Sans, registered once).
const FONT: &str = "dejavu-sans";
const CELL: i32 = 56;
const LABEL_SPACE: i32 = 170;
const TOP: i32 = 48;
const MARGIN: i32 = 16;

/// Registers the font once; every call gets that one outcome.
fn register() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
                .map_err(|_| "the embedded DejaVu Sans font is not a valid font".to_string())
        })
        .clone()
}

/// Shade of a cell holding `share` (0–1) of its row: white to deep blue.
fn shade(share: f64) -> RGBColor {
    let s = share.clamp(0.0, 1.0);
    let mix = |from: f64, to: f64| (from + (to - from) * s).round() as u8;
    RGBColor(mix(255.0, 8.0), mix(255.0, 48.0), mix(255.0, 107.0))
}

/// Draws `matrix` (rows: truth, columns: prediction) with `title` above it into `path`.
pub fn write_png(matrix: &ConfusionMatrix, title: &str, path: &Path) -> Result<(), String> {
    register()?;
    let n = matrix.labels.len() as i32;
    let size = (LABEL_SPACE + n * CELL + MARGIN, TOP + n * CELL + LABEL_SPACE);
    let root = BitMapBackend::new(path, (size.0 as u32, size.1 as u32)).into_drawing_area();
    let fail = |e: DrawingAreaErrorKind<_>| format!("cannot draw {}: {e}", path.display());
    root.fill(&WHITE).map_err(fail)?;
    let text = |px: f64| TextStyle::from((FONT, px).into_font()).color(&BLACK);
    root.draw(&Text::new(title.to_string(), (MARGIN, 12), text(17.0))).map_err(fail)?;

    let grid_x = LABEL_SPACE;
    let grid_y = TOP;
    for (row, counts) in matrix.counts.iter().enumerate() {
        let total: usize = counts.iter().sum();
        for (col, &count) in counts.iter().enumerate() {
            let share = if total == 0 { 0.0 } else { count as f64 / total as f64 };
            let (x, y) = (grid_x + col as i32 * CELL, grid_y + row as i32 * CELL);
            root.draw(&Rectangle::new([(x, y), (x + CELL, y + CELL)], shade(share).filled())).map_err(fail)?;
            root.draw(&Rectangle::new([(x, y), (x + CELL, y + CELL)], RGBColor(200, 200, 200))).map_err(fail)?;
            let ink = if share > 0.5 { WHITE } else { BLACK };
            let centered = text(15.0).color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
            root.draw(&Text::new(count.to_string(), (x + CELL / 2, y + CELL / 2), centered)).map_err(fail)?;
        }
    }
    for (i, label) in matrix.labels.iter().enumerate() {
        let middle = i as i32 * CELL + CELL / 2;
        let row_label = text(14.0).pos(Pos::new(HPos::Right, VPos::Center));
        root.draw(&Text::new(label.clone(), (grid_x - 8, grid_y + middle), row_label)).map_err(fail)?;
        let column_label = text(14.0).transform(FontTransform::Rotate270).pos(Pos::new(HPos::Right, VPos::Center));
        root.draw(&Text::new(label.clone(), (grid_x + middle, grid_y + n * CELL + 8), column_label)).map_err(fail)?;
    }
    let axis = text(13.0).color(&RGBColor(90, 90, 90));
    root.draw(&Text::new("rows: truth · columns: prediction", (MARGIN, 32), axis)).map_err(fail)?;
    root.present().map_err(fail)
}
