//! Natively, the threads a batch of model inputs is split over: started once, asleep on a queue
//! between batches. Threads started for every batch made glibc's allocator hand each batch fresh
//! memory (90,000 page faults, 0.3 s of system time per 3-minute track), and a work-stealing
//! pool's threads spin between batches, taking the CPU from the decoding on a two-core machine.

use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, OnceLock};

/// A part of a batch, run by a helper thread.
type Job = Box<dyn FnOnce() + Send + 'static>;

/// One part of a batch: its result comes back in order from [`split`].
pub type Part<R> = Box<dyn FnOnce() -> R + Send + 'static>;

/// The helper threads (the calling thread is one more).
struct Helpers {
    queue: Sender<Job>,
    count: usize,
}

fn helpers() -> Option<&'static Helpers> {
    static HELPERS: OnceLock<Option<Helpers>> = OnceLock::new();
    HELPERS
        .get_or_init(|| {
            let (queue, jobs) = mpsc::channel::<Job>();
            let jobs = Arc::new(Mutex::new(jobs));
            let count = (1..super::runner::threads())
                .filter(|i| {
                    let jobs = Arc::clone(&jobs);
                    std::thread::Builder::new()
                        .name(format!("inference-{i}"))
                        .spawn(move || {
                            loop {
                                // The lock is released before the job runs.
                                let job = match jobs.lock() {
                                    Ok(jobs) => jobs.recv(),
                                    Err(_) => return,
                                };
                                // A part that panics loses its result, not the thread.
                                match job {
                                    Ok(job) => drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))),
                                    Err(_) => return,
                                }
                            }
                        })
                        .is_ok()
                })
                .count();
            (count > 0).then_some(Helpers { queue, count })
        })
        .as_ref()
}

/// Threads a batch can be split over: the helpers and the calling thread.
pub fn available() -> usize {
    helpers().map_or(1, |h| h.count + 1)
}

/// Runs `first` on the calling thread and `others` on the helper threads, and returns their
/// results in order (`first`'s, then the others'); `None` for a part whose thread stopped
/// without a result.
pub fn split<R: Send + 'static>(first: impl FnOnce() -> R, others: Vec<Part<R>>) -> Vec<Option<R>> {
    let (results, received) = mpsc::channel::<(usize, R)>();
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(others.len() + 1).collect();
    for (index, part) in (1..).zip(others) {
        let results = results.clone();
        let job: Job = Box::new(move || {
            let _ = results.send((index, part()));
        });
        // Without a helper to take it, the calling thread runs it.
        match helpers() {
            Some(helpers) => {
                if let Err(mpsc::SendError(job)) = helpers.queue.send(job) {
                    job();
                }
            }
            None => job(),
        }
    }
    drop(results);
    slots[0] = Some(first());
    for (index, result) in received {
        slots[index] = Some(result);
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_come_back_in_order_and_a_panicking_part_loses_only_its_result() {
        let parts: Vec<Part<usize>> = (1..7usize)
            .map(|i| {
                Box::new(move || {
                    assert!(i != 3, "part 3 fails");
                    i * 10
                }) as Part<usize>
            })
            .collect();
        let results = split(|| 0, parts);
        let expected: Vec<Option<usize>> = (0..7).map(|i| (i != 3).then_some(i * 10)).collect();
        assert_eq!(results, expected);
        // The helpers survived the panic.
        let again = split(|| 0, (1..4usize).map(|i| Box::new(move || i) as Part<usize>).collect());
        assert_eq!(again, vec![Some(0), Some(1), Some(2), Some(3)]);
        assert_eq!(available(), crate::model::runner::threads());
    }
}
