//! The track's log-mel spectrogram on a canvas, with the playhead; a click seeks there.

use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, ImageData, MouseEvent};

use super::record::TrackRecord;
use super::state::{Picture, use_state};

/// A dark-blue → magenta → yellow colour ramp for a grey level.
fn colour(level: u8) -> [u8; 3] {
    let t = level as f32 / 255.0;
    let r = (255.0 * (1.6 * t).min(1.0)) as u8;
    let g = (255.0 * ((t - 0.45) * 1.8).clamp(0.0, 1.0)) as u8;
    let b = (255.0 * (0.25 + 0.9 * t - 1.1 * t * t).clamp(0.0, 1.0)) as u8;
    [r, g, b]
}

/// Draws the picture over `duration` seconds (a tail no segment covered stays dark).
fn draw(canvas: &web_sys::HtmlCanvasElement, picture: &Picture, duration: f64) -> Result<(), wasm_bindgen::JsValue> {
    let columns = picture.columns as usize;
    let w = ((duration * picture.columns_per_second).ceil() as usize).max(columns).max(1);
    let h = (picture.rows as usize).max(1);
    canvas.set_width(w as u32);
    canvas.set_height(h as u32);
    let mut rgba = vec![0u8; w * h * 4];
    for (i, &v) in picture.pixels.iter().enumerate().take(columns * h) {
        let (row, column) = (i / columns.max(1), i % columns.max(1));
        let [r, g, b] = colour(v);
        let at = (row * w + column) * 4;
        rgba[at..at + 4].copy_from_slice(&[r, g, b, 255]);
    }
    for row in 0..h {
        for column in columns..w {
            let at = (row * w + column) * 4;
            let [r, g, b] = colour(0);
            rgba[at..at + 4].copy_from_slice(&[r, g, b, 255]);
        }
    }
    let image = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), w as u32, h as u32)?;
    let context = canvas.get_context("2d")?.ok_or("no 2d context")?.dyn_into::<CanvasRenderingContext2d>()?;
    context.put_image_data(&image, 0.0, 0.0)
}

#[component]
pub fn Spectrogram(track: TrackRecord) -> impl IntoView {
    let state = use_state();
    let canvas = NodeRef::<Canvas>::new();
    let id = track.id.clone();
    // Drawn again only when this track's picture is another one: every file a batch finishes
    // adds its own picture to the map, which would otherwise redraw this one each time.
    let picture = Memo::new_with_compare(
        move |_| state.pictures.with(|p| p.get(&id).cloned()),
        |old, new| match (old, new) {
            (Some(Some(old)), Some(Some(new))) => !Arc::ptr_eq(old, new),
            (Some(None), Some(None)) => false,
            _ => true,
        },
    );
    let has_picture = move || picture.with(Option::is_some);
    let duration = track.report.duration_s.max(0.001);
    Effect::new(move |_| {
        if let (Some(c), Some(p)) = (canvas.get(), picture.get())
            && let Err(e) = draw(&c, &p, duration)
        {
            web_sys::console::warn_2(&"cannot draw the spectrogram".into(), &e);
        }
    });
    let seek = move |ev: MouseEvent| {
        if let Some(c) = canvas.get_untracked() {
            let width = c.client_width().max(1) as f64;
            state.seek.set(Some((ev.offset_x() as f64 / width).clamp(0.0, 1.0) * duration));
        }
    };
    view! {
        <section class="spectrogram" aria-label="Mel spectrogram">
            <Show
                when=has_picture
                fallback=|| view! { <p class="hint">"The spectrogram is drawn for files classified in this visit."</p> }
            >
                <div class="spectrogram-frame">
                    <canvas
                        node_ref=canvas
                        data-testid="spectrogram"
                        role="img"
                        aria-label="Mel spectrogram of the track, low frequencies at the bottom; click to seek"
                        on:click=seek
                    ></canvas>
                    <div class="playhead" aria-hidden="true"
                        style:left=move || format!("{:.3}%", (state.time.get() / duration * 100.0).clamp(0.0, 100.0))></div>
                </div>
            </Show>
        </section>
    }
}
