//! The selected track: the player (HTML audio from the file's object URL) with its time, then
//! the verdicts, the descriptors (tempo, key, loudness…), the timeline and the spectrogram.

use leptos::html::Audio;
use leptos::prelude::*;

use super::descriptors::DescriptorView;
use super::playable::audio_url;
use super::format::clock;
use super::spectrogram::Spectrogram;
use super::state::use_state;
use super::timeline::Timeline;
use super::verdicts::Verdicts;

#[component]
pub fn TrackView() -> impl IntoView {
    let state = use_state();
    let audio = NodeRef::<Audio>::new();
    // This session's file of the track, made playable when it is shown (playable::audio_url).
    let url = move || state.selected.get().and_then(|id| audio_url(&id));
    // A new track starts at 0.
    Effect::new(move |_| {
        state.selected.track();
        state.time.set(0.0);
    });
    // Seeks asked for by the timeline or the spectrogram.
    Effect::new(move |_| {
        if let Some(t) = state.seek.get() {
            state.time.set(t);
            if let Some(a) = audio.get_untracked() {
                a.set_current_time(t);
            }
        }
    });
    // Only a change of the selected track redraws the view (not every new track in the library).
    let track = Memo::new(move |_| state.selected_track());
    let on_time = move |_| {
        if let Some(a) = audio.get_untracked() {
            state.time.set(a.current_time());
        }
    };
    view! {
        {move || match track.get() {
            None => {
                view! {
                    <div class="empty">
                        <h2>"No track yet"</h2>
                        <p>"Drop a song to hear it and see what it is."</p>
                    </div>
                }
                    .into_any()
            }
            Some(track) => {
                let duration = track.report.duration_s;
                view! {
                    <article class="track" data-testid="track-view">
                        <h2 class="track-name" data-testid="track-name">{track.name.clone()}</h2>
                        <div class="player">
                            {move || match url() {
                                Some(src) => {
                                    view! {
                                        <audio
                                            controls=true
                                            src=src
                                            node_ref=audio
                                            on:timeupdate=on_time
                                            on:seeked=on_time
                                            aria-label="player"
                                        ></audio>
                                    }
                                        .into_any()
                                }
                                None => {
                                    view! {
                                        <p class="hint">
                                            "From an earlier visit: drop the file again to play it."
                                        </p>
                                    }
                                        .into_any()
                                }
                            }}
                            <span class="clock" data-testid="clock" aria-live="off">
                                {move || format!("{} / {}", clock(state.time.get()), clock(duration))}
                            </span>
                        </div>
                        <Verdicts track=track.clone() />
                        <DescriptorView track=track.clone() />
                        <Timeline track=track.clone() />
                        <Spectrogram track=track />
                    </article>
                }
                    .into_any()
            }
        }}
    }
}
