//! A file split over several workers is decoded and resampled once: the worker on share 0
//! relays the samples, resampled for each feature configuration, in blocks, to the workers on
//! the other shares through `MessagePort`s, and waits for their acknowledgements so that only a
//! few blocks are ever in flight (a 1-hour file is not held twice in memory). The page abandons
//! a job on every port when one of its shares fails.

use std::cell::RefCell;
use std::collections::HashMap;

use futures::StreamExt;
use futures::channel::mpsc::{TryRecvError, UnboundedReceiver, UnboundedSender, unbounded};
use js_sys::{Array, Float32Array, Promise, Reflect};
use musicat::share::Assignment;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageChannel, MessageEvent, MessagePort};

/// Decoded samples per relayed block (1.5 s at 44.1 kHz).
pub const BLOCK_SAMPLES: usize = 65_536;
/// Blocks a follower may have received but not yet analysed before the leader waits.
const MAX_IN_FLIGHT: u32 = 32;

/// What travels over a port (as `{message, samples}`: the samples beside the message, which
/// serde cannot read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RelayMessage {
    /// The track starts; its announced length, if the file tells it.
    Start { announced_s: Option<f64> },
    /// A block of samples (the message's `samples`: one transferred `Float32Array` per feature
    /// configuration, at its rate); the leader has decoded `decoded_s` seconds so far, and gave
    /// the followers the `assigned` segments since the last block (those that start within the
    /// samples relayed so far).
    Samples { decoded_s: f64, assigned: Vec<Assignment> },
    /// The track ended, `decoded_s` seconds long; the last segments given to the followers.
    End { decoded_s: f64, assigned: Vec<Assignment> },
    /// The leader could not decode the file.
    Failed { message: String },
    /// Follower to leader: one more block analysed; so far, `classified` segments classified
    /// in `inference_ms` (spectrograms and inference).
    Taken { inference_ms: f64, classified: u32 },
}

thread_local! {
    /// The open links of each job, by job: closed when the page abandons the job.
    static OPEN: RefCell<HashMap<u32, Vec<UnboundedSender<JsValue>>>> = RefCell::new(HashMap::new());
}

/// The page abandoned job `job`: every link of it ends (its [`Link::next`] gives `None`).
pub fn abandon(job: u32) {
    if let Some(senders) = OPEN.with(|open| open.borrow_mut().remove(&job)) {
        senders.iter().for_each(UnboundedSender::close_channel);
    }
}

/// Why a job's relay stopped.
pub fn abandoned() -> String {
    "another share of this file failed".to_string()
}

/// One end of a port, for one job.
pub struct Link {
    job: u32,
    port: MessagePort,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    sender: UnboundedSender<JsValue>,
    incoming: UnboundedReceiver<JsValue>,
    /// Blocks sent (leader) and blocks the other side said it analysed.
    sent: u32,
    taken: u32,
    /// What the other side said it spent on its segments, and how many.
    inference_ms: f64,
    classified: u32,
}

impl Link {
    /// Listens on `port` for job `job`.
    pub fn open(job: u32, port: MessagePort) -> Self {
        let (sender, incoming) = unbounded();
        OPEN.with(|open| open.borrow_mut().entry(job).or_default().push(sender.clone()));
        let forward = sender.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let _ = forward.unbounded_send(event.data());
        });
        // Setting the handler also starts the port's message queue.
        port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Self {
            job,
            port,
            _on_message: on_message,
            sender,
            incoming,
            sent: 0,
            taken: 0,
            inference_ms: 0.0,
            classified: 0,
        }
    }

    /// Sends `message`, with `samples` (one array per feature configuration, each copied into a
    /// transferred `Float32Array`) if given.
    pub fn send(&mut self, message: &RelayMessage, samples: Option<&[Vec<f32>]>) -> Result<(), String> {
        let failed = || "cannot relay the samples".to_string();
        let message = message.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|_| failed())?;
        let value = js_sys::Object::new();
        Reflect::set(&value, &"message".into(), &message).map_err(|_| failed())?;
        let transfer = Array::new();
        if let Some(samples) = samples {
            let arrays = Array::new();
            for group in samples {
                let array = Float32Array::from(group.as_slice());
                transfer.push(&array.buffer());
                arrays.push(&array);
            }
            Reflect::set(&value, &"samples".into(), &arrays).map_err(|_| failed())?;
            self.sent += 1;
        }
        self.port
            .post_message_with_transferable(&value, &transfer)
            .map_err(|_| "cannot relay the samples to the other worker".to_string())
    }

    /// The next message, its samples (if any) copied into `samples`, one vector per feature
    /// configuration; `None` once the job is abandoned.
    pub async fn next(&mut self, samples: &mut Vec<Vec<f32>>) -> Option<Result<RelayMessage, String>> {
        let data = self.incoming.next().await?;
        samples.iter_mut().for_each(Vec::clear);
        if let Some(arrays) = Reflect::get(&data, &"samples".into()).ok().and_then(|s| s.dyn_into::<Array>().ok()) {
            samples.resize_with(arrays.length() as usize, Vec::new);
            for (array, group) in arrays.iter().zip(samples.iter_mut()) {
                let Ok(array) = array.dyn_into::<Float32Array>() else {
                    return Some(Err("unreadable samples from the other worker".to_string()));
                };
                group.resize(array.length() as usize, 0.0);
                array.copy_to(group);
            }
        }
        Some(read(&data))
    }

    /// Leader: blocks sent.
    pub fn sent(&self) -> u32 {
        self.sent
    }

    /// Leader: blocks sent that the other side has not yet analysed.
    pub fn backlog(&self) -> u32 {
        self.sent.saturating_sub(self.taken)
    }

    /// Leader: milliseconds the other side said it spent on its segments.
    pub fn inference_ms(&self) -> f64 {
        self.inference_ms
    }

    /// Leader: segments the other side said it classified.
    pub fn classified(&self) -> u32 {
        self.classified
    }

    /// Leader: counts the acknowledgements already delivered (see [`yield_to_events`]).
    pub fn catch_up(&mut self) -> Result<(), String> {
        loop {
            match self.incoming.try_recv() {
                Ok(data) => self.count_taken(data)?,
                Err(TryRecvError::Closed) => return Err(abandoned()),
                Err(TryRecvError::Empty) => return Ok(()),
            }
        }
    }

    /// Leader: waits until the other side has no more than the allowed blocks in flight.
    pub async fn wait_for_room(&mut self) -> Result<(), String> {
        while self.sent > self.taken + MAX_IN_FLIGHT {
            let data = self.incoming.next().await.ok_or_else(abandoned)?;
            self.count_taken(data)?;
        }
        Ok(())
    }

    fn count_taken(&mut self, data: JsValue) -> Result<(), String> {
        if let RelayMessage::Taken { inference_ms, classified } = read(&data)? {
            self.taken += 1;
            self.inference_ms = inference_ms;
            self.classified = classified;
        }
        Ok(())
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.port.set_onmessage(None);
        self.port.close();
        OPEN.with(|open| {
            let mut open = open.borrow_mut();
            if let Some(senders) = open.get_mut(&self.job) {
                senders.retain(|s| !s.same_receiver(&self.sender));
                if senders.is_empty() {
                    open.remove(&self.job);
                }
            }
        });
    }
}

/// The message of a port's `{message, samples}`.
fn read(data: &JsValue) -> Result<RelayMessage, String> {
    Reflect::get(data, &"message".into())
        .ok()
        .and_then(|m| serde_wasm_bindgen::from_value::<RelayMessage>(m).ok())
        .ok_or_else(|| "unreadable message from the other worker".to_string())
}

/// Lets the worker's event loop deliver the messages that arrived meanwhile (the followers'
/// acknowledgements) before going on: a message posted to itself comes after them.
pub async fn yield_to_events() {
    let Ok(channel) = MessageChannel::new() else { return };
    let (sender, receiver) = (channel.port1(), channel.port2());
    let arrived = Promise::new(&mut |resolve, _| {
        receiver.set_onmessage(Some(&resolve));
        let _ = sender.post_message(&JsValue::NULL);
    });
    let _ = JsFuture::from(arrived).await;
    receiver.set_onmessage(None);
    sender.close();
    receiver.close();
}
