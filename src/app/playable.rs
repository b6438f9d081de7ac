//! This session's dropped files by track id, so the player can play them (an object URL is
//! made only when a track is shown).

use std::cell::RefCell;
use std::collections::HashMap;

use web_sys::File;

thread_local! {
    /// This session's files by track id, with their object URL once the player asked for one.
    static PLAYABLE: RefCell<HashMap<String, (File, Option<String>)>> = RefCell::new(HashMap::new());
}

/// Keeps track `id`'s file for the player.
pub fn keep(id: &str, file: File) {
    PLAYABLE.with(|p| p.borrow_mut().insert(id.to_string(), (file, None)));
}

/// An object URL that plays track `id`'s file (`None` for a track of an earlier session). It is
/// made when first asked for, not when the file is classified: `URL.createObjectURL` of a file on
/// disk blocks the page's thread (tens of ms on a loaded machine), too long to do for every file
/// of a batch.
pub fn audio_url(id: &str) -> Option<String> {
    PLAYABLE.with(|p| {
        let mut playable = p.borrow_mut();
        let (file, url) = playable.get_mut(id)?;
        if url.is_none() {
            *url = web_sys::Url::create_object_url_with_blob(file).ok();
        }
        url.clone()
    })
}

/// Forgets the files (and revokes the object URLs) of deleted tracks: one, or (`None`) all.
pub fn forget_audio(id: Option<&str>) {
    let gone: Vec<(File, Option<String>)> = PLAYABLE.with(|p| {
        let mut playable = p.borrow_mut();
        match id {
            Some(id) => playable.remove(id).into_iter().collect(),
            None => playable.drain().map(|(_, v)| v).collect(),
        }
    });
    for url in gone.into_iter().filter_map(|(_, url)| url) {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}
